"""Redeem codes without AWS: spelling, plans, token buckets, admin keys, status mapping, and the adapter's
retry of unprocessed batch items and its reading of cancelled transactions (against a fake client)."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from chalicelib.domain.attempt_limits import BucketPolicy, wait_seconds
from chalicelib.domain.ports.codes import BucketState
from chalicelib.domain.ports.common import WriteResult
from chalicelib.domain.codes import (ALPHABET, CodeState, CodeStatus, RedeemCode, code_expiry, derive_code,
                                     format_code, normalize_code, read_order_codes, redemption_id_for)
from chalicelib.domain.products.code_pack import default_plan_setting, fulfillment_status, parse_plan
from chalicelib.domain.distributors import authenticate_admin, key_matches
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.orders import Order, OrderKind, OrderStatus

SECRET = b"unit-secret"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------------- codes
def test_codes_are_deterministic_80_bit_and_spelled_without_look_alikes():
    code = derive_code(SECRET, "ORDER1", 0)
    assert code == derive_code(SECRET, "ORDER1", 0)
    assert len(code) == 16 and len(ALPHABET) == 32 and set(code) <= set(ALPHABET)   # 16 x 5 = 80 bits
    assert not set("ILOU") & set(ALPHABET)
    assert derive_code(SECRET, "ORDER1", 1) != code != derive_code(SECRET, "ORDER2", 0)
    assert derive_code(SECRET, "ORDER1", 0, attempt=1) != code
    assert derive_code(b"other-secret", "ORDER1", 0) != code
    assert len({derive_code(SECRET, "ORDER1", seq) for seq in range(20_000)}) == 20_000


def test_typed_codes_are_normalised_and_malformed_ones_refused():
    code = derive_code(SECRET, "ORDER1", 7)
    assert format_code(code) == f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}"
    assert normalize_code(f"  {format_code(code).lower()} ") == code
    assert normalize_code("OIL0-0000-0000-0000") == "0110000000000000"   # look-alikes read as digits
    for bad in ("", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQRSU", "ABCD-EFGH-JKMN-PQR!", "UUUU-UUUU-UUUU-UUUU", None, 42,
                "A" * 100):
        assert normalize_code(bad) is None, bad


def test_redemption_ids_are_one_per_code_and_user():
    code = derive_code(SECRET, "ORDER1", 0)
    assert redemption_id_for(SECRET, code, 1) == redemption_id_for(SECRET, code, 1)
    assert redemption_id_for(SECRET, code, 1) != redemption_id_for(SECRET, code, 2)
    assert len(redemption_id_for(SECRET, code, 1)) == 26


def test_codes_expire_at_the_midnight_after_their_last_day():
    assert code_expiry(datetime(2026, 11, 25, 23, 59, tzinfo=timezone.utc), 180) == \
        datetime(2027, 5, 25, tzinfo=timezone.utc)


def a_code(**changes) -> RedeemCode:
    values = dict(code="0" * 16, order_id="O", seq=0, distributor_id="D", product_id="premium_3m", month_count=3,
                  max_uses=2, used_count=0, state=CodeState.ACTIVE, expires_at=NOW + timedelta(days=1),
                  created_at=NOW)
    values.update(changes)
    return RedeemCode(**values)


def test_a_code_status_puts_inactive_before_depleted_before_expired():
    later = NOW + timedelta(days=2)
    assert a_code().status(NOW) == CodeStatus.ACTIVE
    assert a_code().status(later) == CodeStatus.EXPIRED
    assert a_code(used_count=2).status(later) == CodeStatus.DEPLETED
    assert a_code(used_count=2, state=CodeState.INACTIVE).status(later) == CodeStatus.INACTIVE
    assert a_code(used_count=2).depleted and not a_code(used_count=2, state=CodeState.INACTIVE).depleted
    assert a_code(used_count=1).live and not a_code(used_count=2).live


class FakeCodes:
    def __init__(self, items: dict[str, RedeemCode]) -> None:
        self.items = items

    def get_many(self, codes):
        return {code: self.items[code] for code in codes if code in self.items}


def test_reading_an_order_back_follows_clash_attempts():
    first = derive_code(SECRET, "MINE", 1)
    moved = derive_code(SECRET, "MINE", 1, attempt=1)
    store = FakeCodes({
        derive_code(SECRET, "MINE", 0): a_code(code=derive_code(SECRET, "MINE", 0), order_id="MINE", seq=0),
        first: a_code(code=first, order_id="THEIRS", seq=9),        # taken by another order first
        moved: a_code(code=moved, order_id="MINE", seq=1),
    })
    found = read_order_codes(store, SECRET, "MINE", range(0, 3))   # seq 2 not written yet
    assert [(code.seq, code.code) for code in found] == [(0, derive_code(SECRET, "MINE", 0)), (1, moved)]


# ---------------------------------------------------------------------------------------------- plans
def test_default_plans_parse_and_bad_plans_are_named():
    plans = {plan_id: parse_plan(plan_id, raw, 100_000) for plan_id, raw in default_plan_setting().items()}
    ten = plans["codes_3m_x10"]
    assert (ten.codes_per_pack, ten.max_uses, ten.valid_days, ten.max_quantity) == (10, 1, 180, 10_000)
    assert ten.price_for(3) == 30 * 12_000_000 and plans["codes_3m_shared10"].max_uses == 10
    for raw, message in (({"product_id": "premium_1m", "codes_per_pack": 1, "unit_price": "1"}, "product_id"),
                         ({"product_id": "premium_3m", "codes_per_pack": 0, "unit_price": "1"}, "codes_per_pack"),
                         ({"product_id": "premium_3m", "codes_per_pack": 1, "unit_price": "-1"}, "unit_price"),
                         ({"product_id": "premium_3m", "codes_per_pack": 1, "unit_price": "1", "max_uses": True},
                          "max_uses")):
        with pytest.raises(ValueError, match=message):
            parse_plan("bad", raw, 100_000)


def test_fulfillment_status_maps_the_shared_order_states():
    order = Order(order_id="O", kind=OrderKind.CODE_PACK, owner_id="dist:D", status=OrderStatus.PENDING,
                  product_id="premium_3m", amount_micros=1, created_at=NOW, status_changed_at=NOW)
    expected = {OrderStatus.PENDING: "pending", OrderStatus.PAID: "pending", OrderStatus.DELIVERING: "processing",
                OrderStatus.DELIVERED: "completed", OrderStatus.FAILED: "failed"}
    for status, shown in expected.items():
        assert fulfillment_status(replace(order, status=status)) == shown


# ---------------------------------------------------------------------------------------------- buckets
def test_a_bucket_waits_until_its_next_token():
    policy = BucketPolicy(burst=3, refill_seconds=60)
    assert wait_seconds(None, policy, 1000) == 0
    assert wait_seconds(BucketState(full_at=900, started_at=700), policy, 1000) == 0     # full again
    assert wait_seconds(BucketState(full_at=1120, started_at=1000), policy, 1000) == 0   # two taken of three
    assert wait_seconds(BucketState(full_at=1180, started_at=1000), policy, 1000) == 60  # empty
    assert wait_seconds(BucketState(full_at=1180, started_at=1000), policy, 1030) == 30
    assert wait_seconds(BucketState(full_at=1180, started_at=1000), policy, 1060) == 0   # one came back


# ---------------------------------------------------------------------------------------------- admin keys
def test_admin_keys_match_plain_or_hashed_configuration_only():
    digest = hashlib.sha256(b"s3cret-key").hexdigest()
    assert key_matches("s3cret-key", "s3cret-key")
    assert key_matches("s3cret-key", f"sha256:{digest}")
    assert key_matches("s3cret-key", f"sha256:{digest.upper()}")
    assert not key_matches("s3cret-kez", f"sha256:{digest}")
    assert not key_matches(f"sha256:{digest}", f"sha256:{digest}")   # the digest itself is not the key
    assert not key_matches("", "") and not key_matches(None, "x")
    actor = authenticate_admin("s3cret-key", f"sha256:{digest}", "req-1", "10.0.0.1")
    assert actor.key_fingerprint == digest[:12] and actor.source_ip == "10.0.0.1"
    with pytest.raises(Unauthenticated):
        authenticate_admin("nope", "s3cret-key")


# ---------------------------------------------------------------------------------------------- adapter
class FakeClient:
    """Answers BatchWriteItem with unprocessed items a few times, and transactions with canned errors."""

    def __init__(self, unprocessed_rounds: int = 0, cancel_reasons: list[str] | None = None,
                 error_code: str | None = None, unanswered: Exception | None = None) -> None:
        self.unanswered = unanswered
        self.unprocessed_rounds = unprocessed_rounds
        self.cancel_reasons = cancel_reasons
        self.error_code = error_code
        self.batches: list[int] = []
        self.written: list[str] = []

    def batch_write_item(self, RequestItems):
        (table, requests), = RequestItems.items()
        self.batches.append(len(requests))
        if self.unprocessed_rounds:
            self.unprocessed_rounds -= 1
            keep, back = requests[:-2], requests[-2:]
            self.written += [request["PutRequest"]["Item"]["code"]["S"] for request in keep]
            return {"UnprocessedItems": {table: back}}
        self.written += [request["PutRequest"]["Item"]["code"]["S"] for request in requests]
        return {"UnprocessedItems": {}}

    def transact_write_items(self, TransactItems):
        if self.unanswered:
            raise self.unanswered
        if self.error_code:
            raise ClientError({"Error": {"Code": self.error_code, "Message": "x"}}, "TransactWriteItems")
        if self.cancel_reasons:
            raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "x"},
                               "CancellationReasons": [{"Code": code} for code in self.cancel_reasons]},
                              "TransactWriteItems")
        return {}


@pytest.fixture
def bound_models():
    from chalicelib.adapters.dynamodb import models

    previous = getattr(models, "_binding", None)
    models.bind("unit", "us-east-1", None)
    yield
    if previous is not None:
        models.bind(*previous)


def test_unprocessed_batch_items_are_sent_again_with_backoff(bound_models):
    from chalicelib.adapters.dynamodb.codes import DynamoCodeStore

    client, sleeps = FakeClient(unprocessed_rounds=3), []
    store = DynamoCodeStore(client_factory=lambda: client, sleep=sleeps.append)
    batch = [a_code(code=derive_code(SECRET, "O", seq), seq=seq) for seq in range(30)]
    store.put_new(batch)
    assert sorted(client.written) == sorted(code.code for code in batch)   # each exactly once
    assert client.batches == [25, 2, 2, 2, 5]
    assert len(sleeps) == 3 and all(0 <= pause <= cap for pause, cap in zip(sleeps, (0.05, 0.1, 0.2)))


def test_unprocessed_items_past_the_budget_fail_the_chunk(bound_models):
    from chalicelib.adapters.dynamodb.codes import DynamoCodeStore, UnprocessedItemsLeft

    store = DynamoCodeStore(client_factory=lambda: FakeClient(unprocessed_rounds=99), sleep=lambda _: None)
    with pytest.raises(UnprocessedItemsLeft):
        store.put_new([a_code(code=derive_code(SECRET, "O", seq), seq=seq) for seq in range(3)])


@pytest.mark.parametrize("client, expected", [
    (FakeClient(), WriteResult.APPLIED),
    (FakeClient(cancel_reasons=["ConditionalCheckFailed", "None", "None", "None"]), WriteResult.CHANGED),
    (FakeClient(cancel_reasons=["ConditionalCheckFailed", "ConditionalCheckFailed", "None", "None"]),
     WriteResult.DUPLICATE),
    (FakeClient(cancel_reasons=["TransactionConflict", "None", "None", "None"]), WriteResult.BUSY),
    (FakeClient(cancel_reasons=["None", "None", "ThrottlingError", "None"]), WriteResult.BUSY),
    (FakeClient(error_code="ProvisionedThroughputExceededException"), WriteResult.BUSY),
    (FakeClient(unanswered=ReadTimeoutError(endpoint_url="https://dynamodb")), WriteResult.UNKNOWN),
    (FakeClient(unanswered=ConnectionClosedError(endpoint_url="https://dynamodb")), WriteResult.UNKNOWN),
    (FakeClient(error_code="InternalServerError"), WriteResult.UNKNOWN),
])
def test_a_redemption_transaction_reports_why_it_was_cancelled(bound_models, client, expected):
    from chalicelib.adapters.dynamodb.codes import DynamoCodeStore
    from chalicelib.domain.codes import Redemption, RedemptionStatus, Tally

    store = DynamoCodeStore(client_factory=lambda: client, sleep=lambda _: None)
    redemption = Redemption(redemption_id="R", code="0" * 16, user_id=1, distributor_id="D", code_order_id="O",
                            product_id="premium_3m", month_count=3, status=RedemptionStatus.ACCEPTED,
                            redeemed_at=NOW, updated_at=NOW, retail_micros=1, gift_order_id="R")
    tally = Tally("D", "2026-11-25", 0, {"redemptions": 1})
    assert store.redeem(a_code(), redemption, False, tally, NOW) == expected


def test_a_redemption_transaction_refused_for_its_request_still_raises(bound_models):
    from chalicelib.adapters.dynamodb.codes import DynamoCodeStore
    from chalicelib.domain.codes import Redemption, RedemptionStatus, Tally

    store = DynamoCodeStore(client_factory=lambda: FakeClient(error_code="ValidationException"), sleep=lambda _: None)
    redemption = Redemption(redemption_id="R", code="0" * 16, user_id=1, distributor_id="D", code_order_id="O",
                            product_id="premium_3m", month_count=3, status=RedemptionStatus.ACCEPTED,
                            redeemed_at=NOW, updated_at=NOW, retail_micros=1, gift_order_id="R")
    with pytest.raises(ClientError):
        store.redeem(a_code(), redemption, False, Tally("D", "2026-11-25", 0, {"redemptions": 1}), NOW)


# ---------------------------------------------------------------------------------------------- upkeep
def test_the_repair_job_requeues_stuck_code_packs_and_flags_stuck_gifts():
    from chalicelib.domain.ports.common import Page
    from chalicelib.domain.upkeep import RepairPolicy, UpkeepService

    stuck_at = NOW - timedelta(minutes=30)
    pack = Order(order_id="PACK", kind=OrderKind.CODE_PACK, owner_id="dist:D", status=OrderStatus.DELIVERING,
                 product_id="premium_3m", amount_micros=1, created_at=stuck_at, status_changed_at=stuck_at)
    gift = replace(pack, order_id="GIFT", kind=OrderKind.PREMIUM_GIFT, owner_id="user:1")

    class Orders:
        transitions: list = []

        def list_due(self, status, due_before, limit, cursor=None):
            return Page([pack, gift] if status == OrderStatus.DELIVERING else [], None)

        def apply(self, order, transition, now, **changes):
            self.transitions.append((order.order_id, transition.target))
            return replace(order, status=transition.target)

    class Clock:
        def now(self):
            return NOW

    class Quiet:
        def alert(self, key, text):
            pass

    class Queue:
        def enqueue(self, order_id, kind):
            requeued.append(order_id)

    from chalicelib.domain.products import ProductRegistry
    from chalicelib.domain.products.code_pack import CodePack
    from chalicelib.domain.products.premium import PremiumGift

    requeued: list[str] = []
    orders = Orders()
    service = UpkeepService(orders, ProductRegistry((PremiumGift(None), CodePack(None, 10))), Queue(), Quiet(),
                            Clock(), RepairPolicy(timedelta(minutes=5), timedelta(minutes=15)),
                            count=lambda *args: None)
    report = service.repair_orders()
    assert requeued == ["PACK"] and orders.transitions == [("GIFT", OrderStatus.NEEDS_REVIEW)]
    assert report.requeued == 1 and report.changed == 1
