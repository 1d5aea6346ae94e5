"""The cost of an order on AWS: every AWS call of a few orders of each kind is recorded against the emulator,
priced from its measured count and item sizes, and scaled to 1,000 orders at list prices."""
from __future__ import annotations

import json
import math
import os
from collections import Counter
from typing import Any, Callable

from bench.cold_support import AwsRecorder
from bench.dynamo_counter import item_size
from bench.harness import Emulator, Stack, md_table, progress, quiet

ORDERS = int(os.environ.get("BENCH_COST_ORDERS", "10"))   # measured per kind, then scaled to 1,000
PACKS = max(1, ORDERS // 5)                                # code packs of 1,000 codes are slower to measure
# List prices, us-east-1, x86, on-demand, free tiers left out (AWS price pages as of 2026-12).
LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_REQUEST = 0.20 / 1_000_000
WRU = 0.625 / 1_000_000
RRU = 0.125 / 1_000_000
SQS_REQUEST = 0.40 / 1_000_000
API_REQUEST = 3.50 / 1_000_000
# Lambda duration is not measurable on an emulator; it is modelled from the measured calls (formula below).
OWN_WORK_MS = 20          # parsing, validation, logging per invocation
DYNAMODB_CALL_MS = 8
SQS_CALL_MS = 15
TELEGRAM_CALL_MS = 150
MEMORY_MB = {"api_handler": 512, "deliver_orders": 256, "fulfill_code_orders": 1024}
WRITES = ("PutItem", "UpdateItem", "DeleteItem")


class Ledger:
    """What one kind of order used, phase by phase."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.invocations: Counter[str] = Counter()
        self.durations_ms: Counter[str] = Counter()
        self.api_requests = 0
        self.telegram_calls = 0

    def run(self, stack: Stack, function: str, work: Callable[[], Any], api_requests: int = 0,
            drained: bool = False) -> Any:
        """`drained`: work drains a queue and returns how many messages (one invocation each) it handled."""
        stack.sandbox_state.clear_calls()
        with AwsRecorder() as recorder:
            result = work()
        telegram = len(stack.sandbox_state.calls())
        self.calls += recorder.calls
        self.telegram_calls += telegram
        self.api_requests += api_requests
        self.invocations[function] += result if drained else 1
        dynamodb = sum(1 for service, _, _ in recorder.calls if service == "dynamodb")
        sqs = sum(1 for service, _, _ in recorder.calls if service == "sqs")
        self.durations_ms[function] += (OWN_WORK_MS + dynamodb * DYNAMODB_CALL_MS + sqs * SQS_CALL_MS
                                        + telegram * TELEGRAM_CALL_MS)
        return result


def write_units(operation: str, params: dict, size_of: Callable[[str, dict], int]) -> float:
    """Write units of one call: 1 per started KB of each item written, doubled in a transaction."""
    def units(size: int) -> int:
        return max(1, math.ceil(size / 1024))

    if operation == "PutItem":
        return units(item_size(params["Item"]))
    if operation in ("UpdateItem", "DeleteItem"):
        return units(size_of(params["TableName"], params["Key"]))
    if operation == "BatchWriteItem":
        return sum(units(item_size(request["PutRequest"]["Item"])) if "PutRequest" in request else 1
                   for requests in params["RequestItems"].values() for request in requests)
    if operation == "TransactWriteItems":
        total = 0
        for entry in params["TransactItems"]:
            (kind, body), = entry.items()
            total += units(item_size(body["Item"]) if kind == "Put" else size_of(body["TableName"], body["Key"]))
        return 2 * total
    return 0


def read_units(operation: str, params: dict, size_of: Callable[[str, dict], int]) -> float:
    """Read units of one call by DynamoDB's rules (4 KB units, half when eventually consistent)."""
    def units(size: int, consistent: bool) -> float:
        whole = max(1, math.ceil(size / 4096))
        return whole if consistent else whole / 2

    if operation == "GetItem":
        return units(size_of(params["TableName"], params["Key"]), bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        return sum(units(size_of(table, key), bool(request.get("ConsistentRead")))
                   for table, request in params["RequestItems"].items() for key in request["Keys"])
    if operation == "Query":
        return units(2048, bool(params.get("ConsistentRead")))  # our queries read a few small items a page
    return 0


def run() -> str:
    with Emulator() as emulator, quiet():
        with Stack(emulator, prefix="tgshop-bench-cost", env={"AMOUNT_SURCHARGE_CAP": "0.999"}) as stack:
            kinds = [("Premium gift: Mini App order, TRC20 payment, delivery", ORDERS, premium(stack)),
                     ("Redemption gift: a code redeemed, delivery", ORDERS, redemption(stack)),
                     ("Code pack of 1,000 codes: order, payment, fulfilment", PACKS, code_pack(stack))]
            size_of = _sizes(emulator)
            rows = [price(name, orders, ledger, size_of) for name, orders, ledger in kinds]
    return render(rows)


def premium(stack: Stack) -> Ledger:
    progress("cost: premium gift orders")
    ledger = Ledger()
    for index in range(ORDERS):
        order = ledger.run(stack, "api_handler", lambda: stack.create_order(7000 + index).json_body, 1)
        ledger.run(stack, "api_handler", lambda: stack.pay(order), 1)
        ledger.run(stack, "deliver_orders", lambda: stack.drain("delivery", "deliver_orders"), drained=True)
    return ledger


def redemption(stack: Stack) -> Ledger:
    progress("cost: redemption gifts")
    from chalicelib.domain.codes import format_code
    from chalicelib.domain.distributors import AdminActor

    distributor, token = stack.container.distributors.create(AdminActor("bench"), "Cost", None)
    order = _code_order(stack, token, "codes_3m_x10", 2)
    stack.drain("fulfillment", "fulfill_code_orders")
    record = stack.container.orders.get(order["order_id"])
    codes = [format_code(code.code) for code in stack.container.fulfillment.read_codes(record, 0, ORDERS)]
    ledger = Ledger()
    for index, code in enumerate(codes):
        ledger.run(stack, "api_handler", lambda: stack.client.http.post(
            "/redeem", headers=stack.buyer_headers(8000 + index), body=json.dumps({"code": code})), 1)
        ledger.run(stack, "deliver_orders", lambda: stack.drain("delivery", "deliver_orders"), drained=True)
    return ledger


def code_pack(stack: Stack) -> Ledger:
    progress("cost: code packs")
    from chalicelib.domain.distributors import AdminActor

    ledger = Ledger()
    for index in range(PACKS):
        _, token = stack.container.distributors.create(AdminActor("bench"), f"Pack {index}", None)
        order = ledger.run(stack, "api_handler", lambda: _code_order(stack, token, "codes_3m_x1000", 1, pay=False), 1)
        ledger.run(stack, "api_handler", lambda: stack.pay(order), 1)
        ledger.run(stack, "fulfill_code_orders", lambda: stack.drain("fulfillment", "fulfill_code_orders"),
                   drained=True)
    return ledger


def _code_order(stack: Stack, token: str, plan_id: str, quantity: int, pay: bool = True) -> dict:
    response = stack.client.http.post("/distributors/me/orders", body=json.dumps({"plan_id": plan_id,
                                                                                  "quantity": quantity}),
                                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    if response.status_code != 201:
        raise AssertionError(f"order refused: {response.body}")
    if pay:
        stack.pay(response.json_body)
    return response.json_body


def _sizes(emulator: Emulator) -> Callable[[str, dict], int]:
    client, cache = emulator.client("dynamodb"), {}

    def size_of(table: str, key: dict) -> int:
        marker = (table, json.dumps(key, sort_keys=True))
        if marker not in cache:
            item = client.get_item(TableName=table, Key=key).get("Item")
            cache[marker] = item_size(item) if item else 0
        return cache[marker]

    return size_of


def price(name: str, orders: int, ledger: Ledger, size_of: Callable[[str, dict], int]) -> list:
    per = 1000 / orders
    dynamodb = [(operation, params) for service, operation, params in ledger.calls if service == "dynamodb"]
    wru = sum(write_units(operation, params, size_of) for operation, params in dynamodb) * per
    rru = sum(read_units(operation, params, size_of) for operation, params in dynamodb) * per
    sent = sum(1 for service, operation, _ in ledger.calls if service == "sqs" and operation.startswith("Send"))
    sqs = 3 * sent * per            # each message: its SendMessage, and the Lambda poller's receive and delete
    api = ledger.api_requests * per
    invocations = sum(ledger.invocations.values()) * per
    gb_seconds = sum(ms / 1000 * MEMORY_MB[function] / 1024 for function, ms in ledger.durations_ms.items()) * per
    dollars = {"Lambda": gb_seconds * LAMBDA_GB_SECOND + invocations * LAMBDA_REQUEST, "DynamoDB": wru * WRU
               + rru * RRU, "SQS": sqs * SQS_REQUEST, "API Gateway": api * API_REQUEST}
    return [name, f"{orders}", f"{len(dynamodb) / orders:.1f}", f"{invocations:,.0f}", f"{gb_seconds:,.1f}",
            f"{wru:,.0f}", f"{rru:,.0f}", f"{sqs:,.0f}", f"{api:,.0f}", f"{ledger.telegram_calls * per:,.0f}",
            " + ".join(f"{service} ${value:.4f}" for service, value in dollars.items()),
            f"**${sum(dollars.values()):.4f}**"]


def render(rows: list[list]) -> str:
    return "\n".join([
        "### What 1,000 orders cost on AWS",
        "",
        f"Each kind ran {ORDERS} times ({PACKS} for code packs) through the app against the emulator, with every "
        "AWS call recorded; the table scales them to 1,000 orders. List prices, us-east-1, on-demand, no free "
        f"tier: Lambda ${LAMBDA_GB_SECOND:.10f} per GB-second and $0.20 per million requests, DynamoDB $0.625 per "
        "million write request units and $0.125 per million read request units, SQS $0.40 per million requests, "
        "API Gateway (REST) $3.50 per million requests. Telegram calls cost nothing and are listed for the "
        "Lambda time they take.",
        "",
        md_table(["kind of order", "measured orders", "DynamoDB calls / order", "Lambda invocations",
                  "Lambda GB-s", "write units", "read units", "SQS requests", "API Gateway requests",
                  "Telegram calls", "cost by service", "cost of 1,000 orders"], rows),
        "",
        "Formula, per 1,000 orders (n measured, everything summed over the recorded calls, times 1,000 / n):",
        "",
        "- write units: 1 per started KB of each item written (`PutItem` its item, `UpdateItem`/`DeleteItem` the "
        "item's size read afterwards, `BatchWriteItem` each item), doubled for `TransactWriteItems`; a write that "
        "fails its condition is billed the same.",
        "- read units: 1 per started 4 KB of each item read strongly consistently, half eventually consistently; a "
        "key that finds nothing the minimum; a `Query` page counted as one 2 KB read (ours read a few small items).",
        "- SQS requests: 3 per message (the send, and the Lambda poller's receive and delete, one message per "
        "batch at worst); the pollers' idle long polls (a few per minute per queue) are not in it.",
        f"- Lambda: invocations as counted; duration modelled from the measured calls, since an emulator's "
        f"timings are not AWS's: {OWN_WORK_MS} ms of own work + {DYNAMODB_CALL_MS} ms per DynamoDB call + "
        f"{SQS_CALL_MS} ms per SQS call + {TELEGRAM_CALL_MS} ms per Telegram call, times the function's memory "
        "(API 512 MB, delivery 256 MB, fulfilment 1,024 MB) = GB-seconds.",
        "- API Gateway: one request per HTTP call (order, payment webhook, redeem); the Mini App's status polls "
        "and the bot's updates come on top (one request each).",
        "- Not in it: storage (about 1 KB an order, 0.2 KB a code, $0.25 per GB-month), CloudWatch logs and "
        "metrics, X-Ray traces, data transfer, the scheduled jobs (a few calls a minute, whatever the orders).",
    ])
