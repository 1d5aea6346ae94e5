"""Payments a person has to hear about: the buyer whose wallet a transfer was credited to, the operator for a
transfer in suspense or refused, and transfers that never confirm joining the review list."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.payment_review import PaymentReview
from chalicelib.domain.ports.payments import PaymentRecord
from chalicelib.domain.products import ProductRegistry
from chalicelib.domain.products.code_pack import CodePack
from chalicelib.domain.products.premium import PremiumGift
from tests.fakes import (
    Counted,
    FixedClock,
    InMemoryGuardStore,
    InMemoryOrderStore,
    InMemoryPaymentStore,
    InMemoryUserStore,
    RecordingMessenger,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADMIN_CHAT = 999


class Desk:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.orders = InMemoryOrderStore()
        self.payments = InMemoryPaymentStore(self.orders)
        self.users = InMemoryUserStore()
        self.messenger = RecordingMessenger()
        self.counted = Counted()
        notices = Notices(self.users, self.messenger, InMemoryGuardStore(), self.clock, ADMIN_CHAT, 600,
                          logging.getLogger("tests.payment_review"))
        products = ProductRegistry((PremiumGift(None), CodePack(None, 10)))
        self.review = PaymentReview(self.payments, self.orders, products, notices, self.clock, timedelta(minutes=30),
                                    3, self.counted.append, logging.getLogger("tests.payment_review"))

    def order(self, order_id: str = "ORD1", **changes) -> Order:
        values = dict(order_id=order_id, kind="PREMIUM_GIFT", owner_id="user:1001", status=OrderStatus.PENDING,
                      product_id="premium_3m", amount_micros=15_001_000, surcharge_micros=1_000, created_at=NOW,
                      status_changed_at=NOW, buyer_user_id=1001, recipient_user_id=1001, month_count=3)
        order = Order(**{**values, **changes})
        self.orders.create(order)
        return order

    def alerts(self) -> list[str]:
        return [text for chat, text in self.messenger.texts if chat == ADMIN_CHAT]


def record(tx: str = "a" * 64, outcome: str = "CREDITED", reason: str | None = "UNDERPAID",
           order_id: str | None = "ORD1", amount: int = 14_001_000, **changes) -> PaymentRecord:
    """By default an underpayment of ORD1, credited whole to its buyer's wallet."""
    changes.setdefault("credited_micros", amount if outcome in ("CREDITED", "DUPLICATE") else None)
    return PaymentRecord(**{**dict(transaction_id=tx, received_at=NOW, from_address="T-payer", to_address="T-shop",
                                   token_contract="USDT", token_symbol="USDT", amount_micros=amount,
                                   block_timestamp_ms=int(NOW.timestamp() * 1000), confirmed=True, outcome=outcome,
                                   reason=reason, order_id=order_id), **changes})


@pytest.mark.parametrize("outcome,reason,amount,credited,event", [
    ("CREDITED", "UNDERPAID", 14_001_000, 14_001_000, "underpaid"),
    ("CREDITED", "TOO_LATE", 15_001_000, 15_001_000, "too_late"),
    ("MATCHED", "OVERPAID", 16_001_000, 1_000_000, "overpaid"),        # only the excess is credited
    ("LATE_MATCHED", "OVERPAID", 16_001_000, 1_000_000, "overpaid"),
    ("DUPLICATE", "order already paid by another transfer", 15_001_000, 15_001_000, "duplicate"),
])
def test_the_buyer_hears_what_was_credited_to_their_wallet_and_the_operator_is_not_bothered(
        outcome, reason, amount, credited, event):
    desk = Desk()
    desk.order()

    desk.review.heard(record(outcome=outcome, reason=reason, amount=amount, credited_micros=credited))

    [notice] = desk.messenger.notices
    assert (notice.chat_id, notice.event, notice.paid_micros, notice.order.order_id) == (1001, event, credited,
                                                                                          "ORD1")
    assert desk.alerts() == []     # the money is in the buyer's wallet: nothing waits for an operator


def test_a_transfer_that_paid_its_order_exactly_tells_nobody_here():
    desk = Desk()
    desk.order()
    desk.review.heard(record(outcome="MATCHED", reason=None, amount=15_001_000))
    assert desk.messenger.notices == [] and desk.alerts() == []   # "paid" comes from the delivery worker


def test_a_buyer_who_blocked_the_bot_is_not_told():
    desk = Desk()
    desk.order()
    desk.users.set_blocked(1001, True, NOW)

    desk.review.heard(record(outcome="DUPLICATE", reason="order already paid by another transfer"))

    assert desk.messenger.notices == [] and desk.alerts() == []


def test_a_credit_to_a_distributor_without_a_chat_tells_nobody():
    desk = Desk()
    desk.order(kind="CODE_PACK", owner_id="dist:d1", buyer_user_id=None, recipient_user_id=None)

    desk.review.heard(record(outcome="MATCHED", reason="OVERPAID", amount=16_001_000, credited_micros=1_000_000))

    assert desk.messenger.notices == [] and desk.alerts() == []


def test_a_transfer_in_suspense_alerts_the_operator_with_what_to_look_at():
    desk = Desk()
    desk.order()

    desk.review.heard(record(outcome="UNMATCHED", reason="NO_ORDER", order_id=None, amount=3_500_000))

    assert desk.messenger.notices == []
    [alert] = desk.alerts()
    assert "a" * 64 in alert and "3.500 USDT" in alert and "NO_ORDER" in alert and "in suspense" in alert


def test_a_notice_that_fails_never_breaks_the_recorded_payment():
    desk = Desk()
    desk.order()
    desk.orders.get = lambda order_id: (_ for _ in ()).throw(RuntimeError("table unavailable"))

    desk.review.heard(record())     # does not raise

    assert desk.messenger.notices == []


def test_a_rejected_or_strangers_transfer_is_one_alert_per_cooldown_per_outcome():
    desk = Desk()
    for index in range(3):
        desk.review.heard(record(tx=f"{index:064x}", outcome="REJECTED_TOKEN", reason="not USDT", order_id=None))
    desk.review.heard(record(tx="f" * 64, outcome="UNMATCHED", reason="NO_ORDER", order_id=None))

    assert desk.messenger.notices == []
    assert [("REJECTED_TOKEN" in text, "NO_ORDER" in text) for text in desk.alerts()] == [(True, False), (False, True)]


def test_a_transfer_that_never_confirms_joins_the_review_list_once_and_still_pays_if_it_confirms():
    desk = Desk()
    desk.payments.record(record(tx="1" * 64, outcome="PENDING_CONFIRMATION", reason=None, order_id=None,
                                confirmed=False))
    desk.clock.advance(minutes=20)
    desk.payments.record(record(tx="2" * 64, outcome="PENDING_CONFIRMATION", reason=None, order_id=None,
                                confirmed=False, received_at=desk.clock.now()))
    desk.clock.advance(minutes=11)

    assert desk.review.surface_unconfirmed() == ["1" * 64]
    assert desk.review.surface_unconfirmed() == []

    assert desk.payments.surfaced == {"1" * 64} and "30 minutes" in desk.payments.get("1" * 64).reason
    [alert] = desk.alerts()
    assert "1" * 64 in alert and "2" * 64 not in alert
    assert desk.counted.of("PaymentsNeverConfirmed") == 1
    assert desk.payments.record(record(tx="1" * 64, outcome="MATCHED", reason=None))   # a late confirmation
    assert desk.payments.surfaced == set()
