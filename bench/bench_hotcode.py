"""One hot code: a burst of buyers on one 10,000-use code, today's one-counter design against counters of its
own (chalicelib/adapters/dynamodb/code_shards.py), on an emulator that refuses conflicting transactions as
DynamoDB does (bench/conflicts.py). Same code, buyers, threads and emulator for both; rounds interleaved."""
from __future__ import annotations

import logging
import os
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from bench.harness import BENCH_ENV, REGION, md_table, prepare_process_env, progress, quiet
from bench.conflicts import ConflictingMotoServer, item_backups

BUYERS = int(os.environ.get("BENCH_HOT_BUYERS", "1000"))
THREADS = int(os.environ.get("BENCH_HOT_THREADS", "32"))
ROUNDS = int(os.environ.get("BENCH_HOT_ROUNDS", "3"))       # per design, interleaved
HOLD_SECONDS = float(os.environ.get("BENCH_HOT_HOLD", "0.02"))
USES = 10_000
TARGET = 5.0
PREFIX = "tgshop-bench-hot"
DESIGNS = (("one counter on the code item (today)", 0), ("16 counters of its own", 16))


def run() -> str:
    from devstack.localenv import free_ports

    prepare_process_env()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per emulated call
    port = free_ports(1)[0]
    server = ConflictingMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        container = _container(f"http://127.0.0.1:{port}")
        server.hold_transactions(HOLD_SECONDS, _key_names(container))
        with quiet(), item_backups():
            results = _measure(container, server)
    finally:
        server.stop()
    return _render(results)


def _container(url: str) -> Any:
    import boto3

    from chalicelib.config import load_settings
    from chalicelib.container import Container, set_container
    from devstack.infra import create_resources, seed_defaults

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    create_resources(boto3.client("dynamodb", region_name=REGION, endpoint_url=url),
                     boto3.client("sqs", region_name=REGION, endpoint_url=url), PREFIX, REGION)
    container = Container(load_settings({**BENCH_ENV, "RESOURCE_PREFIX": PREFIX, "AWS_ENDPOINT_URL": url,
                                         "REDEEM_USER_BURST": "5", "REDEEM_IP_BURST": "1000"}))
    set_container(container)
    seed_defaults(container)
    return container


def _key_names(container: Any) -> dict[str, list[str]]:
    client = container.boto3_client("dynamodb")
    names = client.list_tables()["TableNames"]
    return {name: [key["AttributeName"] for key in client.describe_table(TableName=name)["Table"]["KeySchema"]]
            for name in names}


def _a_code(container: Any, code: str, shards: int) -> Any:
    from chalicelib.domain.codes import CodeState, RedeemCode

    now = container.clock.now()
    record = RedeemCode(code=code, order_id=f"HOT{code}", seq=0, distributor_id="HOT", product_id="premium_3m",
                        month_count=3, max_uses=USES, used_count=0, state=CodeState.ACTIVE,
                        expires_at=now + timedelta(days=30), created_at=now, use_shards=shards)
    container.code_store.put_new([record])
    return record


def _burst(container: Any, code: str, first_user: int) -> tuple[float, list[str]]:
    from chalicelib.domain.errors import DomainError

    start = threading.Barrier(THREADS)

    def attempt(index: int) -> str:
        if index < THREADS:
            start.wait()
        try:
            return container.redemptions.redeem(first_user + index, code, None).status
        except DomainError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        began = time.perf_counter()
        answers = list(pool.map(attempt, range(BUYERS)))
        return time.perf_counter() - began, answers


def _measure(container: Any, server: ConflictingMotoServer) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {name: [] for name, _ in DESIGNS}
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for round_number in range(ROUNDS):
        for design_number, (name, shards) in enumerate(DESIGNS):
            progress(f"hotcode: round {round_number + 1} of {ROUNDS}, {name}")
            code = "H0TBENCH" + "".join(alphabet[(round_number * 7 + design_number * 3 + i) % 32] for i in range(8))
            _a_code(container, code, shards)
            conflicts, transactions = server.conflicts.conflicts, server.conflicts.transactions
            seconds, answers = _burst(container, code, 1_000_000 * (1 + round_number * 2 + design_number))
            used = container.code_store.get_many([code])[code].used_count
            results[name].append({
                "seconds": seconds, "accepted": answers.count("ACCEPTED"), "busy": answers.count("CODE_BUSY"),
                "other": len(answers) - answers.count("ACCEPTED") - answers.count("CODE_BUSY"), "used": used,
                "conflicts": server.conflicts.conflicts - conflicts,
                "transactions": server.conflicts.transactions - transactions})
    return results


def _render(results: dict[str, list[dict]]) -> str:
    rows, rates = [], {}
    for name, _ in DESIGNS:
        runs = results[name]
        rate = statistics.median(run["accepted"] / run["seconds"] for run in runs)
        rates[name] = rate
        rows.append([name, f"**{rate:,.0f}**", f"{statistics.median(run['seconds'] for run in runs):.1f} s",
                     " / ".join(str(run["accepted"]) for run in runs), " / ".join(str(run["busy"]) for run in runs),
                     " / ".join(str(run["conflicts"]) for run in runs),
                     " / ".join(str(run["transactions"]) for run in runs),
                     "yes" if all(run["used"] == run["accepted"] for run in runs) else "NO"])
    today, sharded = (rates[name] for name, _ in DESIGNS)
    ratio = sharded / today if today else float("inf")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    waste = {name: sum(run["conflicts"] for run in results[name]) / max(1, sum(run["accepted"] for run in
                                                                             results[name]))
             for name, _ in DESIGNS}
    busy = {name: sum(run["busy"] for run in results[name]) for name, _ in DESIGNS}
    return "\n".join([
        "### One hot code under a burst: redemptions per second",
        "",
        f"{BUYERS:,} buyers redeem one {USES:,}-use code through `RedemptionService.redeem` (attempt buckets, the "
        f"code read, the transaction, the gift order, the SQS message), {THREADS} real threads, against an "
        "emulator that applies DynamoDB requests one at a time and holds the items of every accepted transaction "
        f"for {HOLD_SECONDS * 1000:.0f} ms after it (DynamoDB's commit), cancelling any transaction that names a "
        "held item with `TransactionConflict` (`bench/conflicts.py`). The two designs run in turn, "
        f"{ROUNDS} rounds each (a fresh code each round); the rate is accepted redemptions / the burst's wall "
        "time, median of the rounds; the columns with slashes list every round.",
        "",
        md_table(["design", "redemptions / s (median)", "burst time (median)", "accepted", "503 CODE_BUSY",
                  "transactions cancelled by a conflict", "transactions sent", "uses counted = accepted"], rows),
        "",
        f"Ratio: **{ratio:.1f}x** today's design (target >= {TARGET:.0f}x; {verdict}). On this machine the "
        "emulator's CPU, not the conflicts, bounds both designs (a redemption is about ten emulated calls, "
        "applied one at a time, in the same process as the 32 buyers), so the rates say little; what the "
        "conflicts cost shows in the other columns: cancelled transactions per accepted redemption "
        + ", ".join(f"{waste[name]:.1f} ({name})" for name, _ in DESIGNS) + "; buyers told 503 `CODE_BUSY` "
        + ", ".join(f"{busy[name]} ({name})" for name, _ in DESIGNS) + ". The ceiling on DynamoDB is worked out "
        "in the codes section.",
    ])
