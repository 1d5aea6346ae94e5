"""Shared fixtures: emulated AWS (moto) built from infra/resources.yaml, the Telegram sandbox in process,
a settable clock, and the app behind chalice.test.Client."""
from __future__ import annotations

import json
import os
import uuid
from datetime import datetime

import pytest

# Emulated AWS only: make sure nothing can reach a real account.
for _name, _value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                      "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                      "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
                      "POWERTOOLS_METRICS_NAMESPACE": "tgshop-test"}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

# moto's stub joins botocore's built-in handlers when moto is imported: imported before any session is, every
# session of the process, which outlives a test (chalicelib/adapters/aws.py), sends to the mock while one runs.
from moto import mock_aws  # noqa: E402

from tests.support import (  # noqa: E402
    PAYMENT_SECRET, START, TEST_ENV, FakeClock, build_transfer, init_data_for, sign, tx_id)

PREFIX = TEST_ENV["RESOURCE_PREFIX"]
QUEUE_ARN = f"arn:aws:sqs:us-east-1:123456789012:{PREFIX}-queue"


def pytest_collection_modifyitems(items):
    """The tests that start the real local stack run one after another in one worker (`--dist loadgroup`),
    since a checkout publishes one stack's emulator URL; the other workers go on with everything else."""
    for item in items:
        if item.get_closest_marker("smoke") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("local_stack"))


@pytest.fixture
def aws():
    from chalicelib.adapters import aws as shared
    from devstack.emulator import serialize_in_process_dynamodb
    from tests.support import create_mocked_resources

    serialize_in_process_dynamodb()
    with mock_aws():
        dynamodb = shared.client("dynamodb", "us-east-1", None)
        sqs = shared.client("sqs", "us-east-1", None)
        queue_urls = create_mocked_resources(dynamodb, sqs, PREFIX)
        yield {"dynamodb": dynamodb, "sqs": sqs, "queues": queue_urls}


@pytest.fixture
def sandbox():
    from devstack.sandbox import create_sandbox_app

    return create_sandbox_app()


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def container(aws, sandbox, clock):
    import httpx

    from chalicelib.config import load_settings
    from chalicelib.container import Container, set_container
    from devstack.infra import seed_defaults

    settings = load_settings(TEST_ENV)
    built = Container(settings, telegram_transport=httpx.WSGITransport(app=sandbox), clock=clock,
                      sleep=lambda seconds: None)
    set_container(built)
    seed_defaults(built)
    yield built
    set_container(None)


@pytest.fixture
def client(container):
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture
def calls(sandbox):
    """Recorded Bot API calls, optionally of one method."""
    state = sandbox.extensions["sandbox"]
    return lambda method=None: state.calls(method)


class Api:
    """Small helpers so tests read as Given / When / Then."""

    def __init__(self, client, clock, aws):
        self.client = client
        self.clock = clock
        self.aws = aws

    def buyer_headers(self, user_id: int = 1001, **extra) -> dict:
        headers = {"X-Telegram-Init-Data": init_data_for(user_id, self.clock.now()),
                   "Content-Type": "application/json"}
        headers.update(extra)
        return headers

    def create_order(self, user_id: int = 1001, product_id: str = "premium_3m", **body):
        return self.client.http.post("/orders", headers=self.buyer_headers(user_id),
                                     body=json.dumps({"product_id": product_id, **body}))

    def pay(self, order: dict | None = None, *, amount: str | None = None, to: str | None = None,
            tx: str | None = None, confirmed: bool = True, token: str | None = None, body: dict | None = None,
            secret: str = PAYMENT_SECRET, timestamp: int | None = None, mined_at: datetime | None = None):
        """Post one signed transfer; it was mined now unless `mined_at` says otherwise."""
        if body is None:
            body = build_transfer(amount or order["amount"], to or order["pay_to"], tx or tx_id(),
                                  confirmed=confirmed, token=token, mined_at=mined_at or self.clock.now())
        raw = json.dumps(body)
        stamp = int(self.clock.now().timestamp()) if timestamp is None else timestamp
        return self.client.http.post("/webhooks/payments/trc20", body=raw,
                                     headers={"Content-Type": "application/json",
                                              "X-Signature": sign(secret, stamp, raw.encode())})

    def tick(self, job: str):
        """Run one scheduled handler with an EventBridge scheduled event."""
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": "123456789012", "region": "us-east-1",
                 "time": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [], "detail": {}}
        return self.client.lambda_.invoke(job, event).payload

    def drain(self, queue: str, handler: str) -> int:
        """Deliver every message waiting on a queue to its SQS handler, with distinct message ids."""
        from devstack.workers import drain_queue

        url = self.aws["queues"][f"{PREFIX}-{queue}"]
        return drain_queue(self.aws["sqs"], url, QUEUE_ARN,
                           lambda event: self.client.lambda_.invoke(handler, event).payload)


def sqs_event(messages: list[dict]) -> dict:
    """A Lambda SQS event for messages as ReceiveMessage returns them (tests build their own ids)."""
    from devstack.lambdas import sqs_event as lambda_sqs_event

    return lambda_sqs_event(messages, QUEUE_ARN)


@pytest.fixture
def api(client, clock, aws):
    return Api(client, clock, aws)


# ---------------------------------------------------------------- TRON (issue 12)
@pytest.fixture
def tron_node(container, clock):
    """The fake TRON node in process, on the test clock, with the shop's hot wallet funded and staked; the
    container's TRON adapter talks to it over its HTTP API (an httpx WSGI transport)."""
    import httpx

    from devstack.tron_node import NodeState, create_node_app
    from devstack.tron_node.local import fund_shop

    state = NodeState(clock.now)
    container.use_tron_transport(httpx.WSGITransport(app=create_node_app(state)))
    fund_shop(state)
    return state
