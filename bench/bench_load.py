"""A bounded, self-stopping load run: order creation, payment webhooks, Telegram updates and redemptions sent
at once by several containers (each a process with its own app, as Lambda scales) to the local stack (the
atomic emulator and the Telegram sandbox), then the same run on a bare Chalice app that replays each
operation's recorded calls; throughput and p50/p99 as ratios, and afterwards a check that nothing was lost or
doubled."""
from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import Counter
from typing import Any

from bench.cold_support import AwsRecorder, unconditional
from bench.harness import BOT_TOKEN, Emulator, Stack, Stats, md_table, ms, progress, quiet

OPERATIONS = int(os.environ.get("BENCH_LOAD_OPERATIONS", "400"))   # per run, the four kinds in turn
CONTAINERS = int(os.environ.get("BENCH_LOAD_CONTAINERS", "4"))     # processes sending at once
DEADLINE_SECONDS = float(os.environ.get("BENCH_LOAD_DEADLINE", "300"))  # no new operation after this
KINDS = ("order", "payment", "telegram", "redeem")
PREFIX = "tgshop-bench-load"


def run() -> str:
    from devstack.sandbox import serve_sandbox

    with Emulator() as emulator, serve_sandbox("127.0.0.1", 0) as sandbox, quiet():
        with Stack(emulator, prefix=PREFIX, env={"AMOUNT_SURCHARGE_CAP": "0.999", "MAX_PENDING_ORDERS": "50"}) \
                as stack:
            tasks, replay, recorded_orders = prepare(stack)
            env = {**stack.env, "TELEGRAM_API_BASE_URL": sandbox.url}
            progress(f"load: tgshop, {len(tasks)} operations from {CONTAINERS} containers")
            ours = drive("start_tgshop", (env,), tasks)
            checks = check(stack, ours)
            progress("load: the bare Chalice app replaying the same calls")
            bare = drive("start_bare", (env, replay, recorded_orders, f"{sandbox.url}/bot{BOT_TOKEN}"),
                         [(kind, {"bare": payload.get("order", {}).get("order_id")}) for kind, payload in tasks])
    return render(ours, bare, checks, replay)


def prepare(stack: Stack) -> tuple[list[tuple[str, Any]], dict[str, list], dict[str, str]]:
    """The operations, each with what it needs made beforehand (orders to pay, codes to redeem), every kind's
    calls recorded once on a warm container, and the order the payment's calls were recorded on (the bare app
    replays them on each task's own order)."""
    from chalicelib.domain.codes import format_code
    from chalicelib.domain.distributors import AdminActor

    per_kind = OPERATIONS // len(KINDS)
    progress(f"load: preparing {per_kind} orders to pay and {per_kind} codes")
    _, token = stack.container.distributors.create(AdminActor("bench"), "Load", None)
    response = stack.client.http.post("/distributors/me/orders", body=json.dumps(
        {"plan_id": "codes_3m_x10", "quantity": per_kind // 10 + 2}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    stack.pay(response.json_body)
    stack.drain("fulfillment", "fulfill_code_orders")
    pack = stack.container.orders.get(response.json_body["order_id"])
    codes = [format_code(code.code) for code in stack.container.fulfillment.read_codes(pack, 0, per_kind + 4)]
    users = iter(range(30_000_000, 40_000_000))
    payable = [stack.create_order(next(users)).json_body for _ in range(per_kind + 2)]
    replay = {}
    samples = {"order": {"user_id": next(users)}, "payment": {"order": payable.pop()},
               "telegram": {"user_id": next(users)}, "redeem": {"user_id": next(users), "code": codes.pop()}}
    for kind in KINDS:   # recorded on the second of two operations: a warm container
        for second in (False, True):
            stack.sandbox_state.clear_calls()
            payload = samples[kind] if second else _fresh(kind, users, payable, codes)
            with AwsRecorder() as recorder:
                _in_process(stack, kind, payload)
        replay[kind] = unconditional(recorder.calls) + [("telegram", call["method"], call["params"])
                                         for call in stack.sandbox_state.calls()]
    stack.drain("delivery", "deliver_orders")   # the recorded operations' gifts go out before the run
    tasks = []
    for index in range(per_kind * len(KINDS)):
        kind = KINDS[index % len(KINDS)]
        payload = _fresh(kind, users, payable, codes)
        if kind == "payment":
            payload["transfer"] = stack.transfer(payload["order"]["amount"], payload["order"]["pay_to"])
        tasks.append((kind, payload))
    return tasks, replay, {"payment": samples["payment"]["order"]["order_id"]}


def _fresh(kind: str, users: Any, payable: list, codes: list) -> dict:
    if kind == "payment":
        return {"order": payable.pop()}
    if kind == "redeem":
        return {"user_id": next(users), "code": codes.pop()}
    return {"user_id": next(users)}


def _in_process(stack: Stack, kind: str, payload: dict) -> None:
    from bench import load_worker

    load_worker._client, load_worker._env = stack.client, stack.env
    if kind == "payment":
        payload = {**payload, "transfer": stack.transfer(payload["order"]["amount"], payload["order"]["pay_to"])}
    _, _, ok, _ = load_worker.perform((kind, payload))
    if not ok:
        raise AssertionError(f"{kind} failed while recording: {payload}")


def drive(initializer: str, arguments: tuple, tasks: list[tuple[str, Any]]) -> dict:
    """Every task through a pool of CONTAINERS processes; none is started after DEADLINE_SECONDS."""
    from bench import load_worker

    context = multiprocessing.get_context("spawn")
    deadline = time.monotonic() + DEADLINE_SECONDS
    results = []
    with context.Pool(CONTAINERS, initializer=getattr(load_worker, initializer), initargs=arguments) as pool:
        pool.map(time.sleep, [0.01] * CONTAINERS)      # every container started (imported, built) first
        began = time.perf_counter()
        pending = [pool.apply_async(load_worker.perform, (task,)) for task in tasks]
        for job in pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pool.terminate()
                break
            results.append(job.get(timeout=remaining))
        seconds = time.perf_counter() - began
    return {"seconds": seconds, "results": results}


def check(stack: Stack, ours: dict) -> dict[str, Any]:
    """After the run: every paid order and redemption delivered exactly once, nothing refused, no order left
    half-way, no payment recorded twice."""
    made = {kind: [made for done, _, ok, made in ours["results"] if done == kind and ok] for kind in KINDS}
    failed = sum(1 for _, _, ok, _ in ours["results"] if not ok)
    stack.sandbox_state.clear_calls()
    stack.drain("delivery", "deliver_orders")
    gifts = Counter(call["params"]["user_id"] for call in stack.sandbox_state.calls("giftPremiumSubscription"))
    delivered = stack.container.orders.get_many(made["payment"] + made["redeem"])
    statuses = Counter(order.status.value for order in delivered.values())
    expected = len(made["payment"]) + len(made["redeem"])
    return {"paid": len(made["payment"]), "redeemed": len(made["redeem"]), "created": len(made["order"]),
            "failed": failed, "statuses": dict(statuses), "gifts": sum(gifts.values()),
            "twice": sum(1 for count in gifts.values() if count > 1),
            "ok": failed == 0 and statuses.get("DELIVERED", 0) == expected == sum(gifts.values())
            and all(count == 1 for count in gifts.values())}


def _samples(run: dict, kind: str) -> list[float]:
    return [seconds for done, seconds, _, _ in run["results"] if done == kind]


def render(ours: dict, bare: dict, checks: dict, replay: dict[str, list]) -> str:
    rate_ours, rate_bare = len(ours["results"]) / ours["seconds"], len(bare["results"]) / bare["seconds"]
    rows = [["all", f"{len(ours['results'])} / {len(bare['results'])}", f"{rate_ours:,.1f} / s",
             f"{rate_bare:,.1f} / s", f"**{rate_ours / rate_bare:.2f}x**", "", "", "", ""]]
    for kind in KINDS:
        a, b = Stats.of(_samples(ours, kind)), Stats.of(_samples(bare, kind))
        rows.append([kind, f"{a.n} / {b.n}", "", "", "", f"{ms(a.median)} / {ms(b.median)}",
                     f"**{a.median / b.median:.2f}x**", f"{ms(a.p99)} / {ms(b.p99)}", f"{a.p99 / b.p99:.2f}x"])
    calls = "; ".join(f"{kind} {len(replay[kind])}" for kind in KINDS)
    return "\n".join([
        "### Load: four kinds of request at once",
        "",
        f"One run of {OPERATIONS} operations (order creation, payment webhook, Telegram `/start`, redemption, in "
        f"turn) sent by {CONTAINERS} containers at once: processes with an app each, one request at a time, as "
        "Lambda scales out (Chalice keeps the current request on the app object, so one app never serves two "
        "at once). They share the local stack: the atomic emulator and the Telegram sandbox over HTTP. No "
        f"operation starts after {DEADLINE_SECONDS:.0f} s. Then the same operations on a bare Chalice app in as "
        "many containers, whose route replays each kind's calls as recorded on a warm tgshop container (boto3 "
        f"and urllib; calls per kind: {calls}), with its writes unconditioned so that they apply as tgshop's did, "
        "and a payment's on that task's own order (`bench/cold_support.py`). Throughput is operations / wall "
        "time; latency per request, tgshop / bare.",
        "",
        md_table(["kind", "operations, tgshop / bare", "throughput, tgshop", "bare", "ratio",
                  "p50 tgshop / bare", "p50 ratio", "p99 tgshop / bare", "p99 ratio"], rows),
        "",
        f"Afterwards, with the delivery queue drained: {checks['created']} orders created, {checks['paid']} paid "
        f"and {checks['redeemed']} redemptions accepted, {checks['failed']} operations refused; paid and "
        f"redeemed orders by status {checks['statuses']}; {checks['gifts']} gifts sent, {checks['twice']} users "
        f"gifted twice. Nothing lost or doubled: **{'yes' if checks['ok'] else 'NO'}**. A p99 of this many "
        "samples on a shared machine is decided by its slowest few; compare the medians.",
    ])
