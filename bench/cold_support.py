"""What the cold path and the load benchmarks share: the baseline app, a recorder of every AWS call, and the
API Gateway event Lambda hands to Chalice."""
from __future__ import annotations

import json
import re
from typing import Any

BASELINE_APP = '''"""The baseline: a bare Chalice app that imports boto3 and replays tgshop's calls."""
import json
import os
import urllib.request

import boto3
from botocore import xform_name
from chalice import Chalice

app = Chalice(app_name="baseline")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "replay.json")) as replay_file:
    REPLAY = json.load(replay_file)
CLIENTS = {}


def replay(kind, order_id=None):
    """The kind's recorded calls, on this request's order instead of the recorded one (when it has one)."""
    calls = REPLAY[kind]
    recorded = REPLAY["recorded_orders"].get(kind)
    if order_id and recorded:
        calls = json.loads(json.dumps(calls).replace(recorded, order_id))
    for service, operation, params in calls:
        if service == "telegram":
            request = urllib.request.Request(REPLAY["telegram_url"] + "/" + operation, data=json.dumps(params).encode(),
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()
            continue
        if service not in CLIENTS:
            CLIENTS[service] = boto3.client(service)
        getattr(CLIENTS[service], xform_name(operation))(**params)


@app.route("/orders/{order_id}", methods=["GET"])
def read_order(order_id):
    replay("http read", order_id)
    return {"order_id": order_id}


@app.route("/telegram/webhook", methods=["POST"])
def telegram_update():
    replay("telegram update")
    return {}


@app.route("/webhooks/payments/trc20", methods=["POST"])
def payment_webhook():
    transfer = app.current_request.json_body
    replay("payment webhook", REPLAY["orders_by_transfer"].get(transfer["transaction_id"]))
    return {"status": "MATCHED"}


@app.on_sqs_message(queue="delivery", batch_size=10, name="deliver_orders")
def deliver_orders(event):
    for record in event:
        replay("sqs record", json.loads(record.body)["order_id"])
'''

# The same baseline with its collector held through its cold start, as tgshop's is in Lambda
# (chalicelib/cold_start.py): what the hold is worth to a bare app, so the ratio can be read without it.
BASELINE_APP_HELD = "import gc\n\ngc.disable()\n\n" + BASELINE_APP


_CONDITIONAL_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def unconditional(calls: list[tuple[str, str, dict]]) -> list[tuple[str, str, dict]]:
    """Recorded calls as a baseline replays them: its DynamoDB writes without their conditions.

    A replay repeats writes whose conditions the recorded call used up (the order has left PAID, the update id is
    claimed), and the emulator refuses a write on its condition sooner than it applies one (the delivery's order
    update: about 14 ms refused, 26 ms applied), so a replay of the conditions would time the baseline doing less
    than tgshop did. Unconditioned, every write applies, as tgshop's did; a transaction's condition checks, which
    write nothing, are left out. A baseline replays them on its request's own order (`on_order`): replayed on the
    recorded order again and again, an update that appends to the order's history would grow that one item with
    every request and time the baseline doing more."""
    return [(service, operation, _without_conditions(operation, params) if service == "dynamodb" else params)
            for service, operation, params in calls]


def on_order(calls: list, recorded_order: str | None, order_id: str | None) -> list:
    """The calls with the recorded order's id replaced by `order_id` (as they are when both are given)."""
    if not (recorded_order and order_id):
        return calls
    return json.loads(json.dumps(calls).replace(recorded_order, order_id))


def _without_conditions(operation: str, params: dict) -> dict:
    if operation in _CONDITIONAL_WRITES:
        return _unconditioned_write(params)
    if operation == "TransactWriteItems":
        entries = [{kind: _unconditioned_write(body)} for entry in params["TransactItems"]
                   for kind, body in entry.items() if kind != "ConditionCheck"]
        return {**params, "TransactItems": entries}
    return params


def _unconditioned_write(params: dict) -> dict:
    """The write without ConditionExpression, and without the names and values only the condition used (DynamoDB
    refuses unused ones)."""
    write = {name: value for name, value in params.items() if name != "ConditionExpression"}
    used = set(_PLACEHOLDER.findall(" ".join(value for name, value in write.items()
                                             if name.endswith("Expression") and isinstance(value, str))))
    for mapping in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        kept = {placeholder: value for placeholder, value in write.pop(mapping, {}).items() if placeholder in used}
        if kept:
            write[mapping] = kept
    return write


class AwsRecorder:
    """Records (service, operation, params) of every botocore call while active."""

    def __enter__(self) -> "AwsRecorder":
        import copy

        from botocore.client import BaseClient

        self.calls: list[tuple[str, str, dict]] = []
        self._original = original = BaseClient._make_api_call
        calls = self.calls

        def recording(client: Any, operation: str, params: dict) -> Any:
            calls.append((client.meta.service_model.service_name, operation, copy.deepcopy(params)))
            return original(client, operation, params)

        BaseClient._make_api_call = recording
        return self

    def __exit__(self, *exc_info: Any) -> None:
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._original


def api_event(method: str, resource: str, path: str, headers: dict, body: str | None,
              path_parameters: dict | None = None) -> dict:
    """An API Gateway (REST, proxy) event as Lambda hands it to Chalice."""
    return {"resource": resource, "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": path_parameters, "stageVariables": None, "body": body, "isBase64Encoded": False,
            "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/api{path}",
                               "requestId": "cold-request", "stage": "api",
                               "identity": {"sourceIp": "203.0.113.7", "userAgent": "bench"}}}
