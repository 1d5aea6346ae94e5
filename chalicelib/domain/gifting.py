"""Gifting Premium for a paid order: at most one gift per order, whatever is retried or raced."""
from __future__ import annotations

from typing import Callable, Protocol

from chalicelib.domain.notices import Notices
from chalicelib.domain.ledger import refund_entry, refundable_micros
from chalicelib.domain.orders import (FLAG_FOR_REVIEW, MARK_DELIVERED, MARK_FAILED, RETURN_TO_PAID, START_DELIVERY,
                                      WAIT_FOR_STARS, Order, OrderStatus, Transition)
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.telegram import (TelegramError, TelegramGateway, TelegramOutcomeUnknown,
                                              TelegramUnreachable)
from chalicelib.domain.products import NoticeRules

S = OrderStatus


class RetryLater(Exception):
    """The gift provably never left; the message should come back after its visibility timeout."""


class GiftListener(Protocol):
    """Another part of the shop that must know when a gift ends (a redeemed code)."""

    def delivered(self, order: Order) -> None: ...

    def failed(self, order: Order) -> None: ...


class GiftDelivery:
    def __init__(self, orders: OrderStore, telegram: TelegramGateway, notices: Notices, clock: Clock,
                 count: Callable[..., None]) -> None:
        self._orders = orders
        self._telegram = telegram
        self._notices = notices
        self._clock = clock
        self._count = count

    def deliver(self, order_id: str, rules: NoticeRules, text_for: Callable[[Order], str | None],
                listener: GiftListener | None = None) -> Order | None:
        """Claiming the order (ready -> DELIVERING, one conditional write) is the at-most-once gate:
        a redelivered message or a second worker finds nothing to claim and stops."""
        claimed = self._orders.claim(order_id, START_DELIVERY, self._clock.now())
        if claimed is None:
            return None
        before, order = claimed
        # A gift that provably never left goes back where it was claimed from, so a retry does not
        # announce "paid" again for an order that was waiting for Stars.
        back = WAIT_FOR_STARS if before.status == S.WAITING_STARS else RETURN_TO_PAID
        gift = _Gift(order, rules, text_for, listener, back)
        try:
            enough_stars = self._has_stars_for(order)
        except (TelegramUnreachable, TelegramOutcomeUnknown, TelegramError) as error:
            self._orders.apply(order, back, self._clock.now())
            raise RetryLater(f"Star balance unknown for {order_id}: {error}") from None
        if before.status in (S.PAID, S.PAID_LATE):
            self._notices.order_event(order, "paid", rules)
        if not enough_stars:
            return self._wait_for_stars(order, newly_waiting=before.status != S.WAITING_STARS)
        return self._gift(gift)

    def _has_stars_for(self, order: Order) -> bool:
        balance = int(self._telegram.call("getMyStarBalance", {}).get("amount", 0))
        self._count("StarBalance", balance)  # read before every gift: the "Star balance low" alarm watches it
        return balance >= (order.star_count or 0)

    def _wait_for_stars(self, order: Order, *, newly_waiting: bool) -> Order | None:
        waiting = self._orders.apply(order, WAIT_FOR_STARS, self._clock.now())
        if waiting is not None and newly_waiting:
            self._count("OrdersWaitingForStars")
            self._notices.alert("stars-low", f"Too few Stars to gift order {order.order_id} "
                                             f"({order.star_count} needed); it waits for a top-up.")
        return waiting

    def _gift(self, gift: _Gift) -> Order | None:
        order = gift.order
        params = {"user_id": order.recipient_user_id, "month_count": order.month_count,
                  "star_count": order.star_count}
        text = gift.text_for(order)
        if text:
            params["text"] = text
        try:
            self._telegram.call("giftPremiumSubscription", params)
        except TelegramUnreachable:
            self._orders.apply(order, gift.back, self._clock.now())
            raise RetryLater(f"Telegram unreachable while gifting {order.order_id}") from None
        except TelegramOutcomeUnknown as error:
            return self._needs_review(order, f"gift outcome unknown: {error}")
        except TelegramError as error:
            if "BALANCE_TOO_LOW" in error.description:
                return self._back_to_waiting(order)
            if not error.permanent:
                return self._needs_review(order, f"gift outcome unknown: {error.description}")
            return self._fail(gift, error.description)
        return self._delivered(gift)

    def _back_to_waiting(self, order: Order) -> Order | None:
        waiting = self._orders.apply(order, WAIT_FOR_STARS, self._clock.now())
        if waiting is not None:
            self._count("OrdersWaitingForStars")
            self._notices.alert("stars-low", f"Telegram refused gift {order.order_id}: balance too low.")
        return waiting

    def _delivered(self, gift: _Gift) -> Order | None:
        now = self._clock.now()
        done = self._orders.apply(gift.order, MARK_DELIVERED, now, delivered_at=now)
        if done is not None:
            self._count("DeliverySucceeded")
            if gift.listener is not None:
                gift.listener.delivered(done)
            self._notices.order_event(done, "delivered", gift.rules)
        return done

    def _fail(self, gift: _Gift, reason: str) -> Order | None:
        order = gift.order
        now = self._clock.now()
        refund = refund_entry(order, reason, now)
        failed = self._orders.apply(order, MARK_FAILED, now, refund, failure_reason=reason[:500])
        if failed is not None:
            self._count("DeliveryFailed")
            if gift.listener is not None:
                gift.listener.failed(failed)
            self._notices.order_event(failed, "failed", gift.rules, reason=reason)
            if refund is not None:   # told after the failure it answers, so the buyer reads them in that order
                self._notices.payment_event(failed, "refunded", refundable_micros(order), gift.rules)
            self._notices.alert(f"delivery-failed:{order.order_id}",
                                f"Delivery of order {order.order_id} failed: {reason}")
        return failed

    def _needs_review(self, order: Order, reason: str) -> Order | None:
        flagged = self._orders.apply(order, FLAG_FOR_REVIEW, self._clock.now(), failure_reason=reason[:500])
        if flagged is not None:
            self._count("DeliveryNeedsReview")
            self._notices.alert(f"needs-review:{order.order_id}", f"Order {order.order_id} needs review: {reason}")
        return flagged


class _Gift:
    """One delivery attempt and what its product says about it."""

    def __init__(self, order: Order, rules: NoticeRules, text_for: Callable[[Order], str | None],
                 listener: GiftListener | None, back: Transition) -> None:
        self.order = order
        self.rules = rules
        self.text_for = text_for
        self.listener = listener
        self.back = back                # where the order goes when the gift provably never left
