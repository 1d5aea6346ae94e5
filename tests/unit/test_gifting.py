"""Gifting Premium: at most one giftPremiumSubscription per order, and what each ending tells whom."""
from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import ledger
from chalicelib.domain.gifting import GiftDelivery, RetryLater
from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import MARK_FAILED, START_DELIVERY, Order, OrderStatus
from chalicelib.domain.ports.telegram import (
    TelegramError,
    TelegramOutcomeUnknown,
    TelegramUnreachable,
)
from chalicelib.domain.products import NoticeRules
from chalicelib.domain.products.premium import PremiumGift, gift_text
from tests.fakes import (
    Counted,
    FakeTelegram,
    FixedClock,
    InMemoryGuardStore,
    InMemoryOrderStore,
    InMemoryUserStore,
    RecordingMessenger,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADMIN_CHAT = 999
BUYER, FRIEND = 1001, 2002
PREMIUM = PremiumGift.notices
GIFT = "giftPremiumSubscription"
BALANCE = "getMyStarBalance"


class Listener:
    def __init__(self) -> None:
        self.delivered_orders: list[Order] = []
        self.failed_orders: list[Order] = []

    def delivered(self, order: Order) -> None:
        self.delivered_orders.append(order)

    def failed(self, order: Order) -> None:
        self.failed_orders.append(order)


class Desk:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.orders = InMemoryOrderStore()
        self.telegram = FakeTelegram().on(BALANCE, {"amount": 10_000}).on(GIFT, True)
        self.messenger = RecordingMessenger()
        self.users = InMemoryUserStore()
        self.counted = Counted()
        notices = Notices(self.users, self.messenger, InMemoryGuardStore(), self.clock, ADMIN_CHAT, 600,
                          logging.getLogger("tests.gifting"))
        self.gauges: list[tuple[str, int]] = []
        self.gifts = GiftDelivery(self.orders, self.telegram, notices, self.clock, self.count)
        self.listener = Listener()

    def count(self, name: str, value: int = 1) -> None:
        self.counted.append(name)
        self.gauges.append((name, value))

    def paid_order(self, recipient: int = FRIEND, order_id: str = "order-1", **fields) -> Order:
        order = Order(order_id=order_id, kind="PREMIUM_GIFT", owner_id=f"user:{BUYER}", status=OrderStatus.PAID,
                      product_id="premium_3m", amount_micros=15_347_000, created_at=NOW - timedelta(minutes=5),
                      status_changed_at=NOW - timedelta(minutes=1), buyer_user_id=BUYER,
                      recipient_user_id=recipient, month_count=3, star_count=1000, notify_chat_id=BUYER,
                      language="en", **fields)
        self.orders.create(order)
        return order

    def deliver(self, order_id: str = "order-1", rules: NoticeRules = PREMIUM) -> Order | None:
        return self.gifts.deliver(order_id, rules, gift_text, self.listener)

    def told(self) -> list[tuple[int, str]]:
        return [(notice.chat_id, notice.event) for notice in self.messenger.notices]

    def alerts(self) -> list[str]:
        return [text for chat, text in self.messenger.texts if chat == ADMIN_CHAT]

    def status(self, order_id: str = "order-1") -> OrderStatus:
        return self.orders.get(order_id).status


@pytest.fixture
def desk() -> Desk:
    return Desk()


# ---------------------------------------------------------------------------------------------- delivered
def test_a_gift_to_a_friend_is_sent_once_and_both_are_told(desk):
    desk.paid_order()
    desk.clock.advance(minutes=1)

    done = desk.deliver()

    assert done.status == OrderStatus.DELIVERED and done.delivered_at == NOW + timedelta(minutes=1)
    assert desk.status() == OrderStatus.DELIVERED
    assert desk.telegram.calls(GIFT) == [{"user_id": FRIEND, "month_count": 3, "star_count": 1000,
                                          "text": "A Premium gift for you"}]
    assert [order.order_id for order in desk.listener.delivered_orders] == ["order-1"]
    assert desk.listener.failed_orders == []
    assert desk.told() == [(BUYER, "paid"), (BUYER, "delivered"), (FRIEND, "delivered_recipient")]
    assert desk.alerts() == [] and desk.counted.of("DeliverySucceeded") == 1


def test_a_gift_to_oneself_has_no_gift_text_and_tells_the_buyer_once(desk):
    desk.paid_order(recipient=BUYER)

    desk.deliver()

    assert "text" not in desk.telegram.calls(GIFT)[0]
    assert desk.told() == [(BUYER, "paid"), (BUYER, "delivered")]


def test_the_recipient_is_told_only_when_the_product_says_so(desk):
    desk.paid_order()

    desk.deliver(rules=NoticeRules(announced=frozenset({"delivered"}), tells_recipient=False))

    assert desk.status() == OrderStatus.DELIVERED and len(desk.telegram.calls(GIFT)) == 1
    assert desk.told() == [(BUYER, "delivered")]


def test_a_product_that_announces_nothing_sends_no_notice(desk):
    desk.paid_order()
    desk.deliver(rules=NoticeRules())
    assert desk.status() == OrderStatus.DELIVERED and desk.messenger.notices == []


def test_the_payment_message_is_edited_when_the_product_says_so(desk):
    desk.paid_order(notify_message_id=77)

    desk.deliver()

    edits = [(notice.chat_id, notice.edit_message_id) for notice in desk.messenger.notices if notice.edit_message_id]
    assert edits == [(BUYER, 77), (BUYER, 77)]  # on paid and on delivered


def test_a_buyer_who_blocked_the_bot_is_not_told_but_the_friend_is(desk):
    desk.paid_order()
    desk.users.set_blocked(BUYER, True, NOW)
    desk.deliver()
    assert desk.told() == [(FRIEND, "delivered_recipient")]


# ---------------------------------------------------------------------------------------------- at most once
def test_a_redelivered_message_finds_nothing_to_claim(desk):
    desk.paid_order()
    desk.deliver()

    assert desk.deliver() is None and desk.deliver() is None

    assert len(desk.telegram.calls(GIFT)) == 1 and len(desk.listener.delivered_orders) == 1
    assert desk.told().count((BUYER, "delivered")) == 1


def test_two_workers_at_once_gift_once(desk):
    desk.paid_order()

    def slow_balance(params):
        time.sleep(0.05)  # the first worker is still asking while the second arrives
        return {"amount": 10_000}

    desk.telegram.on(BALANCE, slow_balance)
    barrier = threading.Barrier(2)
    results: list = []

    def work() -> None:
        barrier.wait()
        results.append(desk.deliver())

    threads = [threading.Thread(target=work) for _ in range(2)]
    [thread.start() for thread in threads]
    [thread.join(10) for thread in threads]

    assert len(desk.telegram.calls(GIFT)) == 1 and len(desk.telegram.calls(BALANCE)) == 1
    assert sorted(result is None for result in results) == [False, True]
    assert desk.status() == OrderStatus.DELIVERED and len(desk.listener.delivered_orders) == 1


# ---------------------------------------------------------------------------------------------- Stars
def test_too_few_stars_waits_with_one_alert_and_gifts_after_a_top_up(desk):
    desk.paid_order()
    desk.telegram.on(BALANCE, {"amount": 999})

    waiting = desk.deliver()

    assert waiting.status == OrderStatus.WAITING_STARS and desk.telegram.calls(GIFT) == []
    assert len(desk.alerts()) == 1 and "order-1" in desk.alerts()[0]
    assert desk.told() == [(BUYER, "paid")]

    desk.clock.advance(minutes=5)
    assert desk.deliver().status == OrderStatus.WAITING_STARS  # still too few: no second alert, no second "paid"
    assert len(desk.alerts()) == 1 and desk.told() == [(BUYER, "paid")] and desk.telegram.calls(GIFT) == []

    desk.telegram.on(BALANCE, {"amount": 1000})
    assert desk.deliver().status == OrderStatus.DELIVERED
    assert len(desk.telegram.calls(GIFT)) == 1
    # the metrics the "Star balance low" alarms watch (infra/resources.yaml)
    assert [value for name, value in desk.gauges if name == "StarBalance"] == [999, 999, 1000]
    assert desk.counted.of("OrdersWaitingForStars") == 1
    assert desk.told() == [(BUYER, "paid"), (BUYER, "delivered"), (FRIEND, "delivered_recipient")]


def test_telegram_refusing_for_a_low_balance_goes_back_to_waiting(desk):
    desk.paid_order()
    desk.telegram.on(GIFT, TelegramError("Bad Request: BALANCE_TOO_LOW", 400))

    assert desk.deliver().status == OrderStatus.WAITING_STARS

    assert len(desk.telegram.calls(GIFT)) == 1 and len(desk.alerts()) == 1
    assert desk.listener.failed_orders == [] and desk.listener.delivered_orders == []


# ---------------------------------------------------------------------------------------------- unreachable, unknown, refused
def test_an_unreachable_telegram_puts_the_order_back_and_asks_for_a_retry(desk):
    desk.paid_order()
    desk.telegram.on(GIFT, TelegramUnreachable("connection refused"), True)

    with pytest.raises(RetryLater):
        desk.deliver()

    assert desk.status() == OrderStatus.PAID and desk.listener.delivered_orders == []
    assert desk.deliver().status == OrderStatus.DELIVERED  # the retry
    assert len(desk.telegram.calls(GIFT)) == 2 and len(desk.listener.delivered_orders) == 1


def test_an_unknown_star_balance_puts_the_order_back_without_gifting(desk):
    desk.paid_order()
    desk.telegram.on(BALANCE, TelegramOutcomeUnknown("timed out"))

    with pytest.raises(RetryLater):
        desk.deliver()

    assert desk.status() == OrderStatus.PAID and desk.telegram.calls(GIFT) == []
    assert desk.messenger.notices == []


def test_an_order_waiting_for_stars_goes_back_to_waiting_and_paid_is_announced_once(desk):
    desk.paid_order()
    desk.telegram.on(BALANCE, {"amount": 999})
    assert desk.deliver().status == OrderStatus.WAITING_STARS
    desk.telegram.on(BALANCE, TelegramUnreachable("connection refused"))

    with pytest.raises(RetryLater):
        desk.deliver()

    assert desk.status() == OrderStatus.WAITING_STARS
    desk.telegram.on(BALANCE, {"amount": 1000})
    assert desk.deliver().status == OrderStatus.DELIVERED
    assert [event for _, event in desk.told()].count("paid") == 1


@pytest.mark.parametrize("error", [TelegramOutcomeUnknown("read timed out"),
                                   TelegramError("Internal Server Error", 500),
                                   TelegramError("Too Many Requests", 429, retry_after=5)])
def test_an_unknown_outcome_needs_review_and_is_never_gifted_again(desk, error):
    desk.paid_order()
    desk.telegram.on(GIFT, error)

    flagged = desk.deliver()

    assert flagged.status == OrderStatus.NEEDS_REVIEW and flagged.failure_reason.startswith("gift outcome unknown")
    assert desk.status() == OrderStatus.NEEDS_REVIEW
    assert len(desk.alerts()) == 1 and "needs review" in desk.alerts()[0]
    assert desk.listener.delivered_orders == [] and desk.listener.failed_orders == []
    assert desk.deliver() is None and len(desk.telegram.calls(GIFT)) == 1
    assert desk.counted.of("DeliveryNeedsReview") == 1


def test_a_permanent_refusal_fails_the_order_and_tells_the_listener_once(desk):
    desk.paid_order()
    desk.telegram.on(GIFT, TelegramError("Bad Request: USER_ID_INVALID", 400))

    failed = desk.deliver()

    assert failed.status == OrderStatus.FAILED and "USER_ID_INVALID" in failed.failure_reason
    assert [order.order_id for order in desk.listener.failed_orders] == ["order-1"]
    assert desk.listener.delivered_orders == []
    assert desk.told() == [(BUYER, "paid"), (BUYER, "failed")]
    assert desk.messenger.notices[-1].reason == "Bad Request: USER_ID_INVALID"
    assert len(desk.alerts()) == 1 and "failed" in desk.alerts()[0]
    assert desk.deliver() is None
    assert len(desk.telegram.calls(GIFT)) == 1 and len(desk.listener.failed_orders) == 1
    assert desk.orders.ledger.entries == {}     # prepaid by a code: no money to give back


# ---------------------------------------------------------------------------------------------- refunds
WALLET = ledger.wallet(f"user:{BUYER}", "USDT")
REFUNDS = ledger.refunds("USDT")


@pytest.mark.parametrize("paid_micros,refunded", [
    (15_347_000, 15_347_000),      # the exact amount
    (17_347_000, 15_347_000),      # overpaid: the excess went to the wallet when it was paid, not again now
])
def test_a_paid_gift_that_fails_for_good_is_refunded_to_the_buyers_wallet_once(desk, paid_micros, refunded):
    desk.paid_order(paid_micros=paid_micros)
    desk.telegram.on(GIFT, TelegramError("Bad Request: USER_ID_INVALID", 400))

    failed = desk.deliver()
    again = desk.deliver()                      # the message comes back

    assert failed.status == OrderStatus.FAILED and again is None
    entry = desk.orders.ledger.entries["refund:order-1"]
    assert {line.account: line.amount_micros for line in entry.lines} == {REFUNDS: -refunded, WALLET: refunded}
    assert list(desk.orders.ledger.entries) == ["refund:order-1"] and desk.orders.ledger.balance(WALLET) == refunded
    refunds_told = [notice.paid_micros for notice in desk.messenger.notices if notice.event == "refunded"]
    assert refunds_told == [refunded]
    assert ("refunded" in [event for _, event in desk.told()]) and desk.counted.of("DeliveryFailed") == 1


def test_workers_racing_to_deliver_a_gift_that_fails_for_good_refund_it_once(desk):
    desk.paid_order(paid_micros=15_347_000)
    desk.telegram.on(GIFT, TelegramError("Bad Request: USER_ID_INVALID", 400))
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            desk.deliver()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    [thread.start() for thread in threads]
    [thread.join(10) for thread in threads]

    assert errors == [] and desk.status() == OrderStatus.FAILED
    assert list(desk.orders.ledger.entries) == ["refund:order-1"] and desk.orders.ledger.balance(WALLET) == 15_347_000


def test_a_refund_already_written_is_never_written_again_by_a_retried_failure(desk):
    """A retried write of the same failure (its first try committed, its answer was lost) finds the order
    FAILED and writes nothing: the refund rides on the order's own transition."""
    desk.paid_order(paid_micros=15_347_000)
    _, order = desk.orders.claim("order-1", START_DELIVERY, NOW)
    refund = ledger.refund_entry(order, "user not found", NOW)
    assert desk.orders.apply(order, MARK_FAILED, NOW, refund).status == OrderStatus.FAILED

    assert desk.orders.apply(order, MARK_FAILED, NOW, refund) is None

    assert desk.orders.ledger.balance(WALLET) == 15_347_000 and len(desk.orders.ledger.entries) == 1


# ---------------------------------------------------------------------------------------------- notices at most once
def test_a_delivery_retried_after_an_unreachable_gift_says_payment_received_once(desk):
    desk.paid_order()
    desk.telegram.on(GIFT, TelegramUnreachable("connection refused"), TelegramUnreachable("refused"), True)

    for _ in range(2):
        with pytest.raises(RetryLater):
            desk.deliver()
        assert desk.status() == OrderStatus.PAID
    assert desk.deliver().status == OrderStatus.DELIVERED

    assert desk.told() == [(BUYER, "paid"), (BUYER, "delivered"), (FRIEND, "delivered_recipient")]
