"""What the cold path and the load benchmarks share: the baseline app, a recorder of every AWS call, and the
API Gateway event Lambda hands to Chalice."""
from __future__ import annotations

from typing import Any

BASELINE_APP = '''"""The baseline: a bare Chalice app that imports boto3 and replays tgshop's calls."""
import json
import os
import urllib.request

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError
from chalice import Chalice

app = Chalice(app_name="baseline")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "replay.json")) as replay_file:
    REPLAY = json.load(replay_file)
CLIENTS = {}


def replay(kind):
    for service, operation, params in REPLAY[kind]:
        if service == "telegram":
            request = urllib.request.Request(REPLAY["telegram_url"] + "/" + operation, data=json.dumps(params).encode(),
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()
            continue
        if service not in CLIENTS:
            CLIENTS[service] = boto3.client(service)
        try:
            getattr(CLIENTS[service], xform_name(operation))(**params)
        except ClientError:
            pass  # a replayed conditional write loses its condition: still one round trip


@app.route("/orders/{order_id}", methods=["GET"])
def read_order(order_id):
    replay("http read")
    return {"order_id": order_id}


@app.route("/telegram/webhook", methods=["POST"])
def telegram_update():
    replay("telegram update")
    return {}


@app.route("/webhooks/payments/trc20", methods=["POST"])
def payment_webhook():
    replay("payment webhook")
    return {"status": "MATCHED"}


@app.on_sqs_message(queue="delivery", batch_size=10, name="deliver_orders")
def deliver_orders(event):
    for _ in event:
        replay("sqs record")
'''

# The same baseline with its collector held through its cold start, as tgshop's is in Lambda
# (chalicelib/cold_start.py): what the hold is worth to a bare app, so the ratio can be read without it.
BASELINE_APP_HELD = "import gc\n\ngc.disable()\n\n" + BASELINE_APP


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
