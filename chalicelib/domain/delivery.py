"""Gifting Premium for a paid order: at most one gift per order, whatever is retried or raced."""
from __future__ import annotations

from typing import Callable, Protocol

from chalicelib.domain.orders import READY_TO_DELIVER, Order, OrderKind, OrderStatus
from chalicelib.domain.ports import (Clock, Notifier, OrderRepository, TelegramError, TelegramGateway,
                                     TelegramOutcomeUnknown, TelegramUnreachable)

S = OrderStatus
DELIVERING_ONLY = frozenset({S.DELIVERING})


class RetryLater(Exception):
    """The gift provably never left; the message should come back after its visibility timeout."""


class DeliveryListener(Protocol):
    """Another part of the shop that must know when a gift of its kind ends (a redeemed code)."""

    def delivered(self, order: Order) -> None: ...

    def failed(self, order: Order) -> None: ...


class DeliveryService:
    def __init__(self, orders: OrderRepository, telegram: TelegramGateway, notifier: Notifier, clock: Clock,
                 count: Callable[[str], None], listeners: dict[OrderKind, DeliveryListener] | None = None) -> None:
        self._orders = orders
        self._telegram = telegram
        self._notifier = notifier
        self._clock = clock
        self._count = count
        self._listeners = listeners or {}

    def deliver(self, order_id: str) -> Order | None:
        """Claiming the order (ready -> DELIVERING, one conditional write) is the at-most-once gate:
        a redelivered message or a second worker finds nothing to claim and stops."""
        claimed = self._orders.claim_for_delivery(order_id, READY_TO_DELIVER, self._clock.now())
        if claimed is None:
            return None
        before, order = claimed
        newly_paid = before.status in (S.PAID, S.PAID_LATE) and order.kind == OrderKind.PREMIUM_GIFT
        try:
            enough_stars = self._has_stars_for(order)
        except (TelegramUnreachable, TelegramOutcomeUnknown, TelegramError) as error:
            self._orders.transition(order, DELIVERING_ONLY, S.PAID, self._clock.now())
            raise RetryLater(f"Star balance unknown for {order_id}: {error}") from None
        if newly_paid:
            self._notifier.order_event(order, "paid")
        if not enough_stars:
            return self._wait_for_stars(order, newly_waiting=before.status != S.WAITING_STARS)
        return self._gift(order)

    def _has_stars_for(self, order: Order) -> bool:
        balance = self._telegram.call("getMyStarBalance", {})
        return int(balance.get("amount", 0)) >= (order.star_count or 0)

    def _wait_for_stars(self, order: Order, *, newly_waiting: bool) -> Order | None:
        waiting = self._orders.transition(order, DELIVERING_ONLY, S.WAITING_STARS, self._clock.now())
        if waiting is not None and newly_waiting:
            self._notifier.alert("stars-low", f"Too few Stars to gift order {order.order_id} "
                                              f"({order.star_count} needed); it waits for a top-up.")
        return waiting

    def _gift(self, order: Order) -> Order | None:
        params = {"user_id": order.recipient_user_id, "month_count": order.month_count,
                  "star_count": order.star_count}
        text = gift_text(order)
        if text:
            params["text"] = text
        try:
            self._telegram.call("giftPremiumSubscription", params)
        except TelegramUnreachable:
            self._orders.transition(order, DELIVERING_ONLY, S.PAID, self._clock.now())
            raise RetryLater(f"Telegram unreachable while gifting {order.order_id}") from None
        except TelegramOutcomeUnknown as error:
            return self._needs_review(order, f"gift outcome unknown: {error}")
        except TelegramError as error:
            if "BALANCE_TOO_LOW" in error.description:
                return self._back_to_waiting(order)
            if not error.permanent:
                return self._needs_review(order, f"gift outcome unknown: {error.description}")
            return self._fail(order, error.description)
        return self._delivered(order)

    def _back_to_waiting(self, order: Order) -> Order | None:
        waiting = self._orders.transition(order, DELIVERING_ONLY, S.WAITING_STARS, self._clock.now())
        if waiting is not None:
            self._notifier.alert("stars-low", f"Telegram refused gift {order.order_id}: balance too low.")
        return waiting

    def _delivered(self, order: Order) -> Order | None:
        now = self._clock.now()
        done = self._orders.transition(order, DELIVERING_ONLY, S.DELIVERED, now, delivered_at=now)
        if done is not None:
            self._count("DeliverySucceeded")
            self._notify_listener(done, delivered=True)
            self._notifier.order_event(done, "delivered")
        return done

    def _fail(self, order: Order, reason: str) -> Order | None:
        failed = self._orders.transition(order, DELIVERING_ONLY, S.FAILED, self._clock.now(),
                                         failure_reason=reason[:500])
        if failed is not None:
            self._count("DeliveryFailed")
            self._notify_listener(failed, delivered=False)
            self._notifier.order_event(failed, "failed", reason=reason)
            self._notifier.alert(f"delivery-failed:{order.order_id}",
                                 f"Delivery of order {order.order_id} failed: {reason}")
        return failed

    def _needs_review(self, order: Order, reason: str) -> Order | None:
        flagged = self._orders.transition(order, DELIVERING_ONLY, S.NEEDS_REVIEW, self._clock.now(),
                                          failure_reason=reason[:500])
        if flagged is not None:
            self._count("DeliveryNeedsReview")
            self._notifier.alert(f"needs-review:{order.order_id}",
                                 f"Order {order.order_id} needs review: {reason}")
        return flagged

    def _notify_listener(self, order: Order, *, delivered: bool) -> None:
        listener = self._listeners.get(order.kind)
        if listener is not None:
            (listener.delivered if delivered else listener.failed)(order)


def gift_text(order: Order) -> str | None:
    if order.kind == OrderKind.REDEMPTION_GIFT:
        return "Premium from a redeemed code"
    if order.buyer_user_id and order.buyer_user_id != order.recipient_user_id:
        return "A Premium gift for you"
    return None
