"""Stars payments on in-memory fakes (no emulator): the pre-checkout rules, one settlement per charge, and
money that cannot pay going back through refundStarPayment exactly once, never into a wallet."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import ledger
from chalicelib.domain.orders import CANCEL, OrderStatus
from chalicelib.domain.payment_methods.stars import StarsInvoice
from chalicelib.domain.payment_methods.stars_payments import PreCheckout, StarPayment, StarsPayments
from chalicelib.domain.ports.telegram import TelegramUnreachable
from chalicelib.domain.products import OrderDraft
from chalicelib.domain.settlement import Settlement
from tests.fakes import FakeTelegram, FixedClock, InMemoryOrderStore, InMemoryPaymentStore, RecordingQueue

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
BUYER = 1001
STARS = 1300
WORDS = {"unknown_order": "not yours", "not_payable": "too late", "price_changed": "new price",
         "invoice_title": "Premium {months}", "invoice_description": "gift"}


class Desk:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.orders = InMemoryOrderStore()
        self.ledger = self.orders.ledger
        self.payments = InMemoryPaymentStore(self.orders)
        self.queue = RecordingQueue()
        self.telegram = FakeTelegram()
        self.prices = {"premium_3m": STARS}
        self.alerts: list[str] = []
        self.counted: list[str] = []
        self.method = StarsInvoice(self.orders, lambda: self.prices, self.telegram, timedelta(minutes=30), 3)
        settlement = Settlement(self.payments, self.orders, self.queue, lambda kind, owner, currency:
                                ledger.revenue(kind, currency), self.counted.append)
        self.stars = StarsPayments(self.orders, settlement, self.method, self.telegram, self.clock,
                                   lambda key, lang: WORDS[key], self.counted.append,
                                   lambda key, text: self.alerts.append(text),
                                   lambda order, name: WORDS[name].format(months=order.month_count))
        self.ids = iter(f"01JORDER{index:018d}" for index in range(100))

    def order(self, user_id: int = BUYER):
        draft = OrderDraft(kind="PREMIUM_GIFT", owner_id=f"user:{user_id}", product_id="premium_3m",
                           base_micros=15_000_000, attributes={"buyer_user_id": user_id, "recipient_user_id": user_id,
                                                               "month_count": 3, "star_count": 1000})
        return self.method.open(draft, next(self.ids), self.clock.now())

    def ask(self, order, *, user_id: int = BUYER, amount: int = STARS, query_id: str = "q") -> dict:
        self.stars.pre_checkout(PreCheckout(query_id, user_id, "XTR", amount, order.order_id))
        return self.telegram.calls("answerPreCheckoutQuery")[-1]

    def pay(self, order, charge: str, *, user_id: int = BUYER, amount: int = STARS):
        return self.stars.paid(StarPayment(user_id, "XTR", amount, order.order_id, charge, {}))


@pytest.fixture
def desk():
    return Desk()


def test_pre_checkout_says_yes_only_to_the_buyer_of_a_pending_order_at_its_current_price(desk):
    order = desk.order()
    assert desk.ask(order) == {"pre_checkout_query_id": "q", "ok": True}
    assert desk.ask(order, user_id=2002)["error_message"] == "not yours"
    assert desk.ask(order, amount=STARS + 1)["error_message"] == "new price"
    desk.prices["premium_3m"] = 1400
    assert desk.ask(order)["error_message"] == "new price"
    desk.prices["premium_3m"] = STARS
    desk.clock.advance(minutes=30)
    assert desk.ask(order)["error_message"] == "too late"
    assert desk.counted.count("StarsPreCheckoutRefused") == 4


def test_a_charge_pays_its_order_once_however_often_it_arrives(desk):
    order = desk.order()
    results = [desk.pay(order, "c1") for _ in range(3)]
    assert [(result.outcome, result.replayed) for result in results] == \
        [("MATCHED", False), ("MATCHED", True), ("MATCHED", True)]
    assert desk.orders.get(order.order_id).status == OrderStatus.PAID
    assert desk.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    assert desk.ledger.balance(ledger.revenue("PREMIUM_GIFT", "XTR")) == STARS * 1_000_000
    assert desk.telegram.calls("refundStarPayment") == []


def test_what_cannot_pay_goes_back_once_and_never_to_a_wallet(desk):
    order, cancelled = desk.order(), desk.order()
    desk.orders.apply(cancelled, CANCEL, NOW)
    desk.pay(order, "c1")
    assert desk.pay(order, "c2").outcome == "RETURNED"              # paid already
    assert desk.pay(order, "c2").replayed                          # the same update again: nothing new
    assert desk.pay(order, "c3", amount=STARS - 1).outcome == "RETURNED"
    assert desk.pay(order, "c4", user_id=2002).outcome == "RETURNED"
    assert desk.pay(cancelled, "c5").outcome == "LATE_MATCHED"     # a late payment pays, as for a transfer
    assert [call["telegram_payment_charge_id"] for call in desk.telegram.calls("refundStarPayment")] == \
        ["c2", "c3", "c4"]
    assert desk.ledger.balance(ledger.wallet(f"user:{BUYER}", "XTR")) == 0
    assert desk.ledger.balance(ledger.payouts("XTR")) == (2 * STARS + STARS - 1) * 1_000_000


def test_a_refund_that_cannot_be_sent_is_booked_once_and_alerted(desk):
    order = desk.order()
    desk.pay(order, "c1")
    desk.telegram.on("refundStarPayment", TelegramUnreachable("down"))
    assert desk.pay(order, "c2").outcome == "RETURNED"
    assert desk.pay(order, "c2").replayed
    assert len(desk.telegram.calls("refundStarPayment")) == 1
    assert len(desk.alerts) == 1 and "c2" in desk.alerts[0]
