"""Payments a person has to hear about. Money credited to a wallet (an overpayment's excess, an underpayment,
a payment after the late window, a second payment of a paid order) is told to the buyer of the order it
points at. A transfer in suspense or refused (a foreign token, an address that is not ours) alerts the
operator (once per cooldown per outcome). A transfer that never confirms surfaces after a deadline."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from chalicelib.domain.money import format_amount
from chalicelib.domain.notices import Notices
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.payments import PaymentRecord, PaymentStore
from chalicelib.domain.products import ProductRegistry
from chalicelib.domain.settlement import REVIEW_OUTCOMES, PaymentOutcome, UnmatchedReason

PAGE_SIZE = 100
LISTED_IN_ALERT = 5
# What the buyer of the order a transfer points at is told when money is credited to their wallet.
BUYER_EVENTS = {UnmatchedReason.UNDERPAID: "underpaid", UnmatchedReason.OVERPAID: "overpaid",
                UnmatchedReason.TOO_LATE: "too_late"}


class PaymentReview:
    def __init__(self, payments: PaymentStore, orders: OrderStore, products: ProductRegistry, notices: Notices,
                 clock: Clock, unconfirmed_after: timedelta, places: int, count: Callable[[str], None],
                 log: Any) -> None:
        self._payments = payments
        self._orders = orders
        self._products = products
        self._notices = notices
        self._clock = clock
        self._unconfirmed_after = unconfirmed_after
        self._places = places
        self._count = count
        self._log = log

    def heard(self, record: PaymentRecord) -> None:
        """Called once, by the write that recorded the transfer. Never raises."""
        try:
            if record.credited_micros:
                order = self._orders.get(record.order_id) if record.order_id else None
                event = "duplicate" if record.outcome == PaymentOutcome.DUPLICATE else BUYER_EVENTS.get(record.reason)
                if order is not None and event is not None:
                    rules = self._products.by_kind(order.kind).notices
                    self._notices.payment_event(order, event, record.credited_micros, rules,
                                                record.transaction_id)
            if record.outcome in REVIEW_OUTCOMES:
                self._notices.alert(f"payment:{record.outcome}", self._describe(record))
        except Exception:  # noqa: BLE001 - the transfer is recorded (and booked) whatever happens here
            self._log.warning("payment notice failed", extra={"transaction_id": record.transaction_id},
                              exc_info=True)

    def surface_unconfirmed(self) -> list[str]:
        """Transfers still waiting for their confirmation (or block time) after the deadline join the review
        list, keeping their outcome: a confirmation that does come still pays by chain time."""
        received_before = self._clock.now() - self._unconfirmed_after
        minutes = int(self._unconfirmed_after.total_seconds() // 60)
        surfaced: list[str] = []
        while True:   # surfaced payments leave the waiting list, so each page is read from its start
            page = self._payments.waiting(received_before, PAGE_SIZE)
            moved = [record.transaction_id for record in page.items
                     if self._payments.surface(record.transaction_id, f"not confirmed within {minutes} minutes")]
            surfaced += moved
            if not moved or page.cursor is None:
                break
        if surfaced:
            self._count("PaymentsNeverConfirmed")
            listed = ", ".join(surfaced[:LISTED_IN_ALERT]) + (" and more" if len(surfaced) > LISTED_IN_ALERT else "")
            self._notices.alert("payment:unconfirmed",
                                f"{len(surfaced)} transfer(s) were not confirmed within {minutes} minutes: {listed}. "
                                "They pay nothing unless the chain watcher posts them again confirmed; check them "
                                "on the chain. They are listed for review (payments, review_state OPEN).")
        return surfaced

    def _describe(self, record: PaymentRecord) -> str:
        amount = "an unknown amount" if record.amount_micros is None else \
            f"{format_amount(record.amount_micros, self._places)} {record.currency}"
        why = f"{record.outcome} ({record.reason})" if record.reason else record.outcome
        target = f" for order {record.order_id}" if record.order_id else ""
        where = "It is in suspense" if record.outcome == PaymentOutcome.UNMATCHED else "It is not in the books"
        return (f"Transfer {record.transaction_id} of {amount} to {record.to_address} paid nothing: {why}{target}. "
                f"{where} until you review it (payments, review_state OPEN).")
