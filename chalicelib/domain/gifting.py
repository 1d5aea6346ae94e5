"""Gifting Premium for a paid order: at most one gift per order, whatever is retried or raced."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Protocol

from chalicelib.domain.notices import Notices
from chalicelib.domain.ledger import JournalEntry, refund_entry, refundable_micros
from chalicelib.domain.orders import (FLAG_FOR_REVIEW, MARK_DELIVERED, MARK_FAILED, RETURN_TO_PAID, START_DELIVERY,
                                      WAIT_FOR_STARS, Order, OrderStatus, Transition)
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.telegram import (TelegramError, TelegramGateway, TelegramOutcomeUnknown,
                                              TelegramUnreachable)
from chalicelib.domain.products import NoticeRules

S = OrderStatus
# How long a sent refund is remembered: longer than SQS keeps a message (14 days), so no redelivery outlives it.
REFUND_SENT_SECONDS = 15 * 24 * 3600


class RetryLater(Exception):
    """The gift provably never left; the message should come back after its visibility timeout."""


class GiftListener(Protocol):
    """Another part of the shop that must know when a gift ends (a redeemed code)."""

    def delivered(self, order: Order) -> None: ...

    def failed(self, order: Order) -> None: ...


class Refunds(Protocol):
    """How a failed order's money goes back: its payment method decides (the payment-method registry)."""

    def refund_entry(self, order: Order, reason: str, now: datetime) -> JournalEntry | None: ...

    def refunded(self, order: Order) -> None: ...

    def refund_event(self, order: Order) -> str: ...

    def sends_back(self, order: Order) -> bool: ...


class WalletRefunds:
    """Every failed order refunded to its buyer's wallet (no payment method sends money back out)."""

    def refund_entry(self, order: Order, reason: str, now: datetime) -> JournalEntry | None:
        return refund_entry(order, reason, now)

    def refunded(self, order: Order) -> None:
        return None

    def refund_event(self, order: Order) -> str:
        return "refunded"

    def sends_back(self, order: Order) -> bool:
        return False


class GiftDelivery:
    def __init__(self, orders: OrderStore, telegram: TelegramGateway, notices: Notices, clock: Clock,
                 count: Callable[..., None], refunds: Refunds | None = None, low_stars: int = 0,
                 once: Callable[[str, int], bool] | None = None) -> None:
        self._orders = orders
        self._telegram = telegram
        self._notices = notices
        self._clock = clock
        self._count = count
        self._refunds = refunds or WalletRefunds()
        self._low_stars = low_stars     # alert the operator when a gift would leave fewer Stars than this
        self._once = once               # a guard claim: marks a refund sent out (Stars), once per order

    def deliver(self, order_id: str, rules: NoticeRules, text_for: Callable[[Order], str | None],
                listener: GiftListener | None = None) -> Order | None:
        """Claiming the order (ready -> DELIVERING, one conditional write) is the at-most-once gate:
        a redelivered message or a second worker finds nothing to claim and stops."""
        claimed = self._orders.claim(order_id, START_DELIVERY, self._clock.now())
        if claimed is None:
            self._finish_refund(order_id)
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
        left = balance - (order.star_count or 0)
        if 0 <= left < self._low_stars:   # too few for this gift at all: the order waits, with its own alert
            self._notices.alert("stars-low-balance", f"The bot holds {balance} Stars; after gift "
                                f"{order.order_id} {left} are left, below {self._low_stars}. Top it up.")
        return left >= 0

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
        refund = self._refunds.refund_entry(order, reason, now)
        failed = self._orders.apply(order, MARK_FAILED, now, refund, failure_reason=reason[:500])
        if failed is not None:
            self._count("DeliveryFailed")
            if gift.listener is not None:
                gift.listener.failed(failed)
            self._notices.order_event(failed, "failed", gift.rules, reason=reason)
            if refund is not None:   # told after the failure it answers, so the buyer reads them in that order
                self._send_back(failed)
                self._notices.payment_event(failed, self._refunds.refund_event(failed), refundable_micros(order),
                                            gift.rules)
            self._notices.alert(f"delivery-failed:{order.order_id}",
                                f"Delivery of order {order.order_id} failed: {reason}")
        return failed

    def _send_back(self, failed: Order) -> None:
        """The writer of FAILED sends the money back and marks it sent. When sending fails the books already
        say it left: the operator is told to finish it by hand."""
        try:
            self._refunds.refunded(failed)
        except (TelegramUnreachable, TelegramOutcomeUnknown, TelegramError) as error:
            self._count("RefundSendFailed")
            self._notices.alert(f"refund-send:{failed.order_id}",
                                f"Refund of order {failed.order_id} was booked but not sent: {error}. "
                                "Send it by hand (refundStarPayment with the order's charge id).")
            return
        if self._once is not None and self._refunds.sends_back(failed):
            self._once(f"refund-sent#{failed.order_id}", REFUND_SENT_SECONDS)

    def _finish_refund(self, order_id: str) -> None:
        """A redelivered message of a FAILED order whose money leaves the shop (Stars): the worker that wrote
        FAILED may have died before sending it. Unless it was marked sent, this delivery claims the mark and
        sends it; had it been sent after all, Telegram refuses the second refund of the charge."""
        if self._once is None:
            return
        order = self._orders.get(order_id)
        if order is None or order.status != S.FAILED or not self._refunds.sends_back(order):
            return
        if self._once(f"refund-sent#{order_id}", REFUND_SENT_SECONDS):
            self._count("RefundResent")
            try:
                self._refunds.refunded(order)
            except (TelegramUnreachable, TelegramOutcomeUnknown, TelegramError) as error:
                self._notices.alert(f"refund-send:{order_id}", f"Refund of order {order_id} was booked but not "
                                    f"sent: {error}. Send it by hand (refundStarPayment with its charge id).")

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
