"""Values and builders shared by the test suites."""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from chalicelib.domain.signatures import build_init_data, sign_payload

BOT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnop"
PAYMENT_SECRET = "test-payment-secret"
USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
ADDRESSES = ("TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt",)
STRANGER_ADDRESS = "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p"
START = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)   # where the tests' clock starts

TEST_ENV = {
    "STAGE": "test",
    "RESOURCE_PREFIX": "tgshop-test",
    "AWS_REGION": "us-east-1",
    "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
    "TELEGRAM_WEBHOOK_SECRET": "test-webhook-secret",
    "PAYMENT_WEBHOOK_SECRET": PAYMENT_SECRET,
    "ADMIN_API_KEY": "test-admin-key",
    "CODE_SECRET_KEY": "test-code-secret",
    "ADMIN_CHAT_ID": "999",
    "PAYMENT_ADDRESSES": ",".join(ADDRESSES),
    "TELEGRAM_API_BASE_URL": "http://sandbox",
}


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


def init_data_for(user_id: int, now: datetime, language: str = "en") -> str:
    return build_init_data(BOT_TOKEN, {"id": user_id, "first_name": f"User{user_id}", "language_code": language},
                           int(now.timestamp()))


def tx_id(name: str | None = None) -> str:
    """A TRON transaction id (64 lower-case hex): derived from `name`, so a test can refer to it, else random."""
    return hashlib.sha256(name.encode()).hexdigest() if name else secrets.token_hex(32)


def build_transfer(amount: str, to: str, tx: str, *, confirmed: bool = True, token: str | None = None,
                   mined_at: datetime = START) -> dict:
    """A TronGrid TRC20 transfer; `mined_at` is its block time (chain time decides what it pays)."""
    value = int(Decimal(amount) * 1_000_000)
    return {"transaction_id": tx, "token_info": {"symbol": "USDT", "address": token or USDT_CONTRACT,
                                                 "decimals": 6},
            "block_timestamp": int(mined_at.timestamp() * 1000), "from": STRANGER_ADDRESS, "to": to,
            "type": "Transfer", "value": str(value), "confirmed": confirmed}


def sign(secret: str, timestamp: int, raw: bytes) -> str:
    return sign_payload(secret, timestamp, raw)


def outcome(response) -> dict:
    """The first transfer's result of a payment webhook answer (which must be a 200)."""
    assert response.status_code == 200, response.body
    return json.loads(response.body)["results"][0]


def new_order(api, user_id=1001, product_id="premium_3m") -> dict:
    response = api.create_order(user_id=user_id, product_id=product_id)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def status_of(container, order) -> str:
    return container.orders.get(order["order_id"]).status.value


_TABLES_AS_CREATED: dict[tuple[str, str], dict] = {}


def create_mocked_resources(dynamodb, sqs, prefix: str, region: str = "us-east-1") -> dict[str, str]:
    """`create_resources` inside moto's in-process mock, from an empty mock: the tables are copies of those
    this process created the first time (about 0.1 s of CreateTable and UpdateTimeToLive calls per test
    otherwise); the queues are created each time."""
    import copy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from devstack.infra import create_resources

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
    made = _TABLES_AS_CREATED.get((prefix, region))
    if made is None:
        queues = create_resources(dynamodb, sqs, prefix, region)
        _TABLES_AS_CREATED[(prefix, region)] = copy.deepcopy(backend.tables)
        return queues
    backend.tables.update(copy.deepcopy(made))
    return create_resources(dynamodb, sqs, prefix, region)
