"""The one settle step every payment method ends in: a conditional PENDING -> PAID (or, inside the late
window, EXPIRED/CANCELLED -> PAID_LATE) that records the payment in the same transaction, then hands the
order to its product's queue. Replays write nothing new. A payment that pays nothing is recorded, and one
an operator must look at is handed to `review` (the buyer it points at is told, the operator alerted)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Callable

from chalicelib.domain.orders import MARK_PAID, MARK_PAID_LATE, PAYABLE, OrderStatus
from chalicelib.domain.ports.common import WriteResult
from chalicelib.domain.ports.orders import OrderQueue, OrderStore
from chalicelib.domain.ports.payments import PaymentRecord, PaymentStore

SETTLE_ROUNDS = 3


class PaymentOutcome(StrEnum):
    RECEIVED = "RECEIVED"      # read from the wire, outcome not decided yet (never stored)
    MATCHED = "MATCHED"
    LATE_MATCHED = "LATE_MATCHED"
    DUPLICATE = "DUPLICATE"    # the order was already paid by another payment: money kept for review
    PENDING_CONFIRMATION = "PENDING_CONFIRMATION"
    UNMATCHED = "UNMATCHED"
    REJECTED_TOKEN = "REJECTED_TOKEN"
    REJECTED_ADDRESS = "REJECTED_ADDRESS"


# Outcomes an operator has to look at: the money is with the shop and paid for nothing.
REVIEW_OUTCOMES = frozenset({PaymentOutcome.UNMATCHED, PaymentOutcome.DUPLICATE, PaymentOutcome.REJECTED_TOKEN,
                             PaymentOutcome.REJECTED_ADDRESS})


class UnmatchedReason(StrEnum):
    UNDERPAID = "UNDERPAID"
    OVERPAID = "OVERPAID"
    NO_ORDER = "NO_ORDER"


@dataclass(frozen=True)
class PaymentResult:
    transaction_id: str
    outcome: PaymentOutcome
    reason: str | None = None
    order_id: str | None = None
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"transaction_id": self.transaction_id, "outcome": self.outcome.value}
        if self.reason:
            result["reason"] = self.reason
        if self.order_id:
            result["order_id"] = self.order_id
        if self.replayed:
            result["replayed"] = True
        return result


class Settlement:
    def __init__(self, payments: PaymentStore, orders: OrderStore, queue: OrderQueue,
                 count: Callable[[str], None], review: Callable[[PaymentRecord], None] | None = None) -> None:
        self._payments = payments
        self._orders = orders
        self._queue = queue
        self._count = count
        self._review = review

    def settle(self, record: PaymentRecord, order_id: str, now: datetime, *, owner_id: str | None = None,
               kind: str | None = None) -> PaymentResult:
        """First as if the order were PENDING (no read: `owner_id` frees its open-order place). If it moved,
        read it once and pay it late (EXPIRED or CANCELLED) or record a duplicate (paid already). A payment
        racing the expiry job loses to it, then pays late in the next round."""
        tx = record.transaction_id
        changes = {"payment_tx": tx, "paid_micros": record.amount_micros, "paid_at": now}
        status = OrderStatus.PENDING
        if owner_id is None:  # no hint: the order says who holds the place
            order = self._orders.get(order_id)
            if order is not None:
                status, owner_id, kind = order.status, order.owner_id, order.kind
        for _ in range(SETTLE_ROUNDS):
            late = status != OrderStatus.PENDING
            outcome = PaymentOutcome.LATE_MATCHED if late else PaymentOutcome.MATCHED
            written = self._payments.record_settling(
                replace(record, outcome=outcome, order_id=order_id), order_id, None if late else owner_id,
                MARK_PAID_LATE if late else MARK_PAID, now, paid_late=late, **changes)
            if written == WriteResult.DUPLICATE:
                return self.replay(tx)
            if written == WriteResult.APPLIED:
                self._count("OrdersPaid")
                if kind is None:
                    kind = self._orders.get(order_id).kind  # type: ignore[union-attr] - just paid, so it exists
                self._queue.enqueue(order_id, kind)
                return PaymentResult(tx, outcome, order_id=order_id)
            order = self._orders.get(order_id)
            if order is None:
                return self.store(replace(record, outcome=PaymentOutcome.UNMATCHED, reason=UnmatchedReason.NO_ORDER))
            if order.status not in PAYABLE:
                return self.store(replace(record, outcome=PaymentOutcome.DUPLICATE, order_id=order_id,
                                          reason="order already paid by another transfer"))
            status, owner_id, kind = order.status, order.owner_id, order.kind
        raise RuntimeError(f"order {order_id} kept changing while payment {tx} tried to pay it")

    def store(self, record: PaymentRecord) -> PaymentResult:
        """Record a payment that pays nothing (rejected, unmatched, a duplicate, waiting for confirmation).
        Only the write that records it hands it to review, so a replay tells nobody again."""
        if not self._payments.record(record):
            return self.replay(record.transaction_id)
        if record.outcome in (PaymentOutcome.REJECTED_TOKEN, PaymentOutcome.REJECTED_ADDRESS):
            self._count("PaymentsRejected")
        elif record.outcome == PaymentOutcome.UNMATCHED:
            self._count("PaymentsUnmatched")
        elif record.outcome == PaymentOutcome.DUPLICATE:
            self._count("PaymentsDuplicate")
        if record.outcome in REVIEW_OUTCOMES and self._review is not None:
            self._review(record)
        return PaymentResult(record.transaction_id, PaymentOutcome(record.outcome), record.reason, record.order_id)

    def replay(self, transaction_id: str) -> PaymentResult:
        stored = self._payments.get(transaction_id)
        if stored is None:  # pragma: no cover - a recorded payment is never deleted
            raise RuntimeError(f"payment {transaction_id} vanished")
        return PaymentResult(transaction_id, PaymentOutcome(stored.outcome), stored.reason, stored.order_id,
                             replayed=True)
