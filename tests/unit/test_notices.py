"""Notices: each event of an order is told at most once, whatever calls it again, in sequence or at once."""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.products import NoticeRules
from chalicelib.domain.products.premium import PremiumGift
from tests.fakes import FixedClock, InMemoryGuardStore, InMemoryUserStore, RecordingMessenger

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BUYER, FRIEND = 1001, 2002


def an_order(order_id: str = "order-1", status: OrderStatus = OrderStatus.DELIVERED) -> Order:
    return Order(order_id=order_id, kind="PREMIUM_GIFT", owner_id=f"user:{BUYER}", status=status,
                 product_id="premium_3m", amount_micros=15_347_000, created_at=NOW, status_changed_at=NOW,
                 buyer_user_id=BUYER, recipient_user_id=FRIEND, month_count=3, star_count=1000,
                 notify_chat_id=BUYER, notify_message_id=77, language="en")


class Desk:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.messenger = RecordingMessenger()
        self.notices = Notices(InMemoryUserStore(), self.messenger, InMemoryGuardStore(), self.clock, 999, 600,
                               logging.getLogger("tests.notices"))

    def told(self) -> list[tuple[int, str, int | None]]:
        return [(notice.chat_id, notice.event, notice.edit_message_id) for notice in self.messenger.notices]


@pytest.fixture
def desk() -> Desk:
    return Desk()


@pytest.mark.parametrize("event", ["paid", "delivered", "failed", "expired"])
def test_an_event_told_again_is_not_sent_again(desk, event):
    order = an_order()

    desk.notices.order_event(order, event, PremiumGift.notices, reason="refused")
    first = desk.told()
    desk.clock.advance(days=2)
    desk.notices.order_event(order, event, PremiumGift.notices, reason="refused")

    assert first and desk.told() == first   # the payment message's edit and the announcements, once


def test_each_event_and_each_order_is_told_once_of_its_own(desk):
    desk.notices.order_event(an_order("order-1"), "paid", PremiumGift.notices)
    desk.notices.order_event(an_order("order-1"), "delivered", PremiumGift.notices)
    desk.notices.order_event(an_order("order-2"), "paid", PremiumGift.notices)

    assert [(notice.order.order_id, notice.event) for notice in desk.messenger.notices] == [
        ("order-1", "status"), ("order-1", "paid"),
        ("order-1", "status"), ("order-1", "delivered"), ("order-1", "delivered_recipient"),
        ("order-2", "status"), ("order-2", "paid")]


@pytest.mark.parametrize("event", ["refunded", "refunded_stars", "follow_on_refused"])
def test_a_refund_told_again_is_not_sent_again_and_is_read_back(desk, event):
    order = an_order(status=OrderStatus.FAILED)

    desk.notices.payment_event(order, event, 15_347_000, PremiumGift.notices)
    desk.clock.advance(minutes=5)
    desk.notices.payment_event(order, event, 15_347_000, PremiumGift.notices)   # a retried job

    assert desk.told() == [(BUYER, event, None)]
    assert desk.notices.told(order.order_id) == [(event, NOW)]


def test_each_transfer_credited_to_the_buyer_is_told_once_of_its_own(desk):
    order = an_order(status=OrderStatus.PENDING)

    desk.notices.payment_event(order, "underpaid", 5_000_000, PremiumGift.notices, "tx-first")
    desk.clock.advance(minutes=1)
    desk.notices.payment_event(order, "underpaid", 5_000_000, PremiumGift.notices, "tx-first")    # replayed
    desk.notices.payment_event(order, "underpaid", 6_000_000, PremiumGift.notices, "tx-second")   # more money

    assert desk.told() == [(BUYER, "underpaid", None), (BUYER, "underpaid", None)]
    assert desk.notices.told(order.order_id, ["tx-first", "tx-second"]) == [
        ("underpaid (tx-first)", NOW), ("underpaid (tx-second)", NOW + timedelta(minutes=1))]
    assert desk.notices.told(order.order_id) == []   # a transfer's credit is found through the transfer


def test_the_events_told_are_read_back_from_their_markers_oldest_first(desk):
    desk.notices.order_event(an_order("order-1"), "paid", PremiumGift.notices)
    desk.clock.advance(minutes=3)
    desk.notices.order_event(an_order("order-1"), "delivered", PremiumGift.notices)
    desk.notices.order_event(an_order("order-2"), "failed", PremiumGift.notices, reason="refused")

    assert desk.notices.told("order-1") == [("paid", NOW), ("delivered", NOW + timedelta(minutes=3))]
    assert desk.notices.told("order-3") == []


def test_twenty_workers_telling_the_same_event_at_once_send_it_once(desk):
    order = an_order()
    barrier = threading.Barrier(20)

    def tell() -> None:
        barrier.wait()
        desk.notices.order_event(order, "delivered", PremiumGift.notices)

    threads = [threading.Thread(target=tell) for _ in range(20)]
    [thread.start() for thread in threads]
    [thread.join(10) for thread in threads]

    assert sorted(desk.told()) == sorted([(BUYER, "status", 77), (BUYER, "delivered", None),
                                          (FRIEND, "delivered_recipient", None)])


def test_an_event_nobody_hears_about_marks_nothing(desk):
    """A product that announces nothing costs no marker, and a later product rule change is not muted."""
    guards = InMemoryGuardStore()
    notices = Notices(InMemoryUserStore(), desk.messenger, guards, desk.clock, 999, 600, logging.getLogger("t"))
    notices.order_event(an_order(), "paid", NoticeRules())

    assert desk.messenger.notices == [] and guards.expiries == {}


def test_a_notice_whose_marker_cannot_be_taken_is_not_sent_and_never_raises(desk):
    class BrokenGuards:
        def claim(self, guard_id, ttl_seconds, now):
            raise RuntimeError("guards table unavailable")

    notices = Notices(InMemoryUserStore(), desk.messenger, BrokenGuards(), desk.clock, 999, 600,
                      logging.getLogger("tests.notices"))
    notices.order_event(an_order(), "delivered", PremiumGift.notices)   # no exception
    assert desk.messenger.notices == []


def test_the_marker_outlives_an_order_waiting_weeks_for_stars(desk):
    order = an_order()
    desk.notices.order_event(order, "paid", PremiumGift.notices)
    desk.clock.advance(days=60)
    desk.notices.order_event(order, "paid", PremiumGift.notices)
    assert [event for _, event, _ in desk.told()].count("paid") == 1
