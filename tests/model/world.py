"""The shop the ledger model drives: emulated AWS (moto) built from infra/, the Telegram sandbox and the fake
TRON node in process, a settable clock, and the app behind chalice.test.Client, as tests/conftest.py builds
them for a test. One world serves every example of a test: `reset` empties it for the next (tables and queues
made anew, the sandbox and the chain forgotten, the clock back at its start), like a warm Lambda container
meeting a fresh account.
Building the world again for each example would cost more than the example's steps.

Besides driving the app, the world reads what the emulator holds without going through the app: the
ledger's balance, line and entry items, the orders' statuses, the payments' outcomes and the queued
messages. The invariants read them that way after every step because it costs no request; each example's
end reads the wallets and orders again through the app's own API and stores.
"""
from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from tests.support import (PAYMENT_SECRET, START, TEST_ENV, FakeClock, build_transfer, create_mocked_resources,
                           init_data_for, sign)

PREFIX = TEST_ENV["RESOURCE_PREFIX"]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{PREFIX}-delivery"


@dataclass
class Books:
    """The ledger table as stored: each account's balance (its balance items, what the app reads), the sum of
    its lines (the journal), and every entry by id."""

    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    line_sums: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)


class World:
    def __init__(self) -> None:
        import boto3
        import httpx
        from chalice.test import Client
        from moto import mock_aws

        from app import app
        from chalicelib.config import load_settings
        from chalicelib.container import Container, set_container
        from devstack.emulator import serialize_in_process_dynamodb
        from devstack.infra import seed_defaults
        from devstack.sandbox import create_sandbox_app
        from devstack.tron_node import NodeState, create_node_app
        from devstack.tron_node.local import fund_shop

        serialize_in_process_dynamodb()
        self._mock = mock_aws()
        self._mock.start()
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.queues = create_mocked_resources(self.dynamodb, self.sqs, PREFIX)
        self.delivery_queue = self.queues[f"{PREFIX}-delivery"]
        sandbox = create_sandbox_app()
        self.telegram = sandbox.extensions["sandbox"]
        self.clock = FakeClock(START)
        self.container = Container(load_settings(TEST_ENV), telegram_transport=httpx.WSGITransport(app=sandbox),
                                   clock=self.clock, sleep=lambda seconds: None)
        self.chain = NodeState(self.clock.now)
        self.container.use_tron_transport(httpx.WSGITransport(app=create_node_app(self.chain)))
        fund_shop(self.chain)
        set_container(self.container)
        seed_defaults(self.container)
        self.client = Client(app)
        self._tables = self._backend().tables

    def reset(self) -> World:
        """Empty the shop for the next example."""
        from devstack.infra import seed_defaults
        from devstack.tron_node.local import fund_shop

        for table in self.dynamodb.list_tables()["TableNames"]:
            self.dynamodb.delete_table(TableName=table)
        for url in self.queues.values():
            self.sqs.delete_queue(QueueUrl=url)
        create_mocked_resources(self.dynamodb, self.sqs, PREFIX)
        self.telegram.reset()
        self.chain.reset()
        fund_shop(self.chain)
        self.clock.current = START
        self.container.live_settings.forget()
        seed_defaults(self.container)
        return self

    def close(self) -> None:
        from chalicelib.container import set_container

        set_container(None)
        self._mock.stop()

    # ------------------------------------------------------------------------------------ driving the app
    def headers(self, user_id: int) -> dict[str, str]:
        return {"X-Telegram-Init-Data": init_data_for(user_id, self.clock.now()), "Content-Type": "application/json"}

    def post_order(self, user_id: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self.client.http.post("/orders", headers=self.headers(user_id), body=json.dumps(body))
        return response.status_code, json.loads(response.body)

    def cancel(self, user_id: int, order_id: str) -> tuple[int, dict[str, Any]]:
        response = self.client.http.post(f"/orders/{order_id}/cancel", headers=self.headers(user_id))
        return response.status_code, json.loads(response.body)

    def list_orders(self, user_id: int) -> list[dict[str, Any]]:
        """Every order of the buyer, as GET /orders pages them."""
        orders: list[dict[str, Any]] = []
        cursor = ""
        while True:
            response = self.client.http.get(f"/orders?limit=100{cursor}", headers=self.headers(user_id))
            assert response.status_code == 200, response.body
            page = json.loads(response.body)
            orders += page["orders"]
            if not page.get("cursor"):
                return orders
            cursor = f"&cursor={quote(page['cursor'])}"

    def transfer(self, amount_micros: int, to: str, tx: str, *, mined_at, confirmed: bool = True,
                 token: str | None = None) -> dict[str, Any]:
        return build_transfer(str(Decimal(amount_micros).scaleb(-6)), to, tx, confirmed=confirmed, token=token,
                              mined_at=mined_at)

    def post_transfer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raw = json.dumps(body)
        stamp = int(self.clock.now().timestamp())
        response = self.client.http.post("/webhooks/payments/trc20", body=raw, headers={
            "Content-Type": "application/json", "X-Signature": sign(PAYMENT_SECRET, stamp, raw.encode())})
        return response.status_code, json.loads(response.body)

    def tick(self, job: str) -> dict[str, Any]:
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": ACCOUNT_ID, "region": REGION, "time": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "resources": [], "detail": {}}
        return self.client.lambda_.invoke(job, event).payload

    def receive(self) -> dict[str, Any] | None:
        """The next delivery message, taken off the queue (the model decides what it should do)."""
        messages = self.sqs.receive_message(QueueUrl=self.delivery_queue, MaxNumberOfMessages=1,
                                            WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return None
        self.sqs.delete_message(QueueUrl=self.delivery_queue, ReceiptHandle=messages[0]["ReceiptHandle"])
        return messages[0]

    def deliver(self, message: dict[str, Any]) -> dict[str, Any]:
        """Run the delivery consumer on one record, as Lambda would hand it over (again, for a redelivery)."""
        from devstack.lambdas import sqs_event

        return self.client.lambda_.invoke("deliver_orders", sqs_event([message], QUEUE_ARN)).payload

    # ------------------------------------------------------------------------------------ reading the emulator
    def _backend(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT_ID][REGION]

    def _items(self, suffix: str):
        for item in self._tables[f"{PREFIX}-{suffix}"].all_items():
            yield {name: value.cast_value for name, value in item.attrs.items()}

    def books(self) -> Books:
        books = Books()
        for item in self._items("ledger"):
            pk, sk = item["pk"], item["sk"]
            if pk.startswith("entry#"):
                books.entries[item["entry_id"]] = {**item, "lines": json.loads(item["lines"])}
            elif sk.startswith("balance"):
                books.balances[pk.removeprefix("acct#")] += int(item["balance"])
            elif sk.startswith("line#"):
                books.line_sums[pk.removeprefix("acct#")] += int(item["amount_micros"])
        return books

    def statuses(self) -> dict[str, str]:
        return {item["order_id"]: item["status"] for item in self._items("orders")}

    def payment_outcomes(self) -> dict[str, str]:
        return {item["transaction_id"]: item["outcome"] for item in self._items("payments")}

    def queued(self) -> list[str]:
        """The order ids of the delivery messages waiting."""
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[ACCOUNT_ID][REGION].queues[f"{PREFIX}-delivery"]
        return [json.loads(message.body)["order_id"] for message in queue._messages]

    def gift_calls(self) -> list[dict[str, Any]]:
        return self.telegram.calls("giftPremiumSubscription")
