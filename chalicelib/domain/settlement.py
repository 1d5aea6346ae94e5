"""The one settle step every payment method ends in: a conditional PENDING -> PAID (or, inside the late
window, EXPIRED/CANCELLED -> PAID_LATE) that records the payment and its journal entry in the same
transaction, then hands the order to its product's queue. Replays write nothing new.

Money that pays nothing lands somewhere by rule (docs/decisions.md, "Odd money"): what a transfer brings
beyond an order's price, an underpayment, a payment after the late window and a second payment of a paid
order are credited to the wallet of the order's buyer; a transfer that fits no order goes to suspense for
the operator. Each is recorded with its entry in one transaction, and only that write tells anyone (`heard`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Callable

from chalicelib.domain.ledger import JournalEntry, credit_entry, payment_entry, suspense_entry
from chalicelib.domain.orders import MARK_PAID, MARK_PAID_LATE, PAYABLE, OrderStatus
from chalicelib.domain.ports.common import WriteResult
from chalicelib.domain.ports.orders import OrderQueue, OrderStore
from chalicelib.domain.ports.payments import PaymentRecord, PaymentStore

SETTLE_ROUNDS = 3


class PaymentOutcome(StrEnum):
    RECEIVED = "RECEIVED"      # read from the wire, outcome not decided yet (never stored)
    MATCHED = "MATCHED"
    LATE_MATCHED = "LATE_MATCHED"
    DUPLICATE = "DUPLICATE"    # the order was already paid by another payment: credited to its buyer's wallet
    CREDITED = "CREDITED"      # paid nothing (underpaid, too late): credited to the wallet of the order's buyer
    PENDING_CONFIRMATION = "PENDING_CONFIRMATION"
    UNMATCHED = "UNMATCHED"
    REJECTED_TOKEN = "REJECTED_TOKEN"
    REJECTED_ADDRESS = "REJECTED_ADDRESS"
    RETURNED = "RETURNED"      # paid nothing and sent straight back to its payer (Stars: refundStarPayment)
    SWAPPED = "SWAPPED"        # sent to the automatic exchange address: TRX goes back to the sender (issue 12)


# Outcomes an operator has to look at: the money is in suspense, or not ours to book (a foreign token, an
# address that is not ours).
REVIEW_OUTCOMES = frozenset({PaymentOutcome.UNMATCHED, PaymentOutcome.REJECTED_TOKEN,
                             PaymentOutcome.REJECTED_ADDRESS})
# Outcomes whose money is in the books: each such payment has exactly one journal entry, "pay:<transaction>",
# unless it moved nothing (a zero-value transfer).
BOOKED_OUTCOMES = frozenset({PaymentOutcome.MATCHED, PaymentOutcome.LATE_MATCHED, PaymentOutcome.DUPLICATE,
                             PaymentOutcome.CREDITED, PaymentOutcome.UNMATCHED, PaymentOutcome.RETURNED,
                             PaymentOutcome.SWAPPED})


class UnmatchedReason(StrEnum):
    UNDERPAID = "UNDERPAID"
    OVERPAID = "OVERPAID"      # the order is paid; the excess is credited
    TOO_LATE = "TOO_LATE"      # mined after the order's late window closed
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


@dataclass(frozen=True)
class OrderRef:
    """What settling needs to know of an order; a TRC20 slot carries it, so the common case reads nothing."""

    order_id: str
    owner_id: str
    kind: str
    amount_micros: int
    status: OrderStatus = OrderStatus.PENDING


class Settlement:
    def __init__(self, payments: PaymentStore, orders: OrderStore, queue: OrderQueue,
                 settles_to: Callable[[str, str, str], str], count: Callable[[str], None],
                 heard: Callable[[PaymentRecord], None] | None = None) -> None:
        self._payments = payments
        self._orders = orders
        self._queue = queue
        self._settles_to = settles_to    # (kind, owner id, currency) -> the account an order's price goes to
        self._count = count
        self._heard = heard

    def settle(self, record: PaymentRecord, order_id: str, now: datetime, *, hint: OrderRef | None = None,
               unpayable: Callable[[PaymentRecord, OrderRef, str], PaymentResult] | None = None) -> PaymentResult:
        """First as the `hint` says (no read: the order PENDING at that price). If it moved, read it once
        and pay it late (EXPIRED or CANCELLED) or credit the money to its buyer (paid already). A payment
        racing the expiry job loses to it, then pays late in the next round. Too little is credited only
        after a read: no write would show that the hint is stale (the order paid already). `unpayable`: what a
        method does instead of crediting the buyer's wallet when the order turns out paid already (Stars: send
        the payment back)."""
        tx = record.transaction_id
        paid = record.amount_micros or 0
        changes = {"payment_tx": tx, "paid_micros": paid, "paid_at": now}
        ref = hint or self._ref(order_id)
        for _ in range(SETTLE_ROUNDS):
            if ref is None:
                return self.suspend(record, UnmatchedReason.NO_ORDER, now)
            if ref.status not in PAYABLE:
                if unpayable is not None:
                    return unpayable(record, ref, f"order is {ref.status}")
                return self.credit(replace(record, outcome=PaymentOutcome.DUPLICATE), ref, now,
                                   reason="order already paid by another transfer")
            if paid < ref.amount_micros:
                if ref is hint:   # only the slot's word that it is PENDING: a paid order makes this a duplicate
                    ref = self._ref(order_id)
                    continue
                return self.credit(replace(record, outcome=PaymentOutcome.CREDITED), ref, now,
                                   reason=UnmatchedReason.UNDERPAID)
            late = ref.status != OrderStatus.PENDING
            excess = max(paid - ref.amount_micros, 0)
            settled = replace(record, outcome=PaymentOutcome.LATE_MATCHED if late else PaymentOutcome.MATCHED,
                              order_id=order_id, reason=UnmatchedReason.OVERPAID if excess else None,
                              credited_micros=excess or None)
            entry = payment_entry(tx, record.to_address, paid, record.currency, price=ref.amount_micros,
                                  owner_id=ref.owner_id, order_id=order_id,
                                  settles_to=self._settles_to(ref.kind, ref.owner_id, record.currency), now=now)
            written = self._payments.record_settling(
                settled, order_id, None if late else ref.owner_id, MARK_PAID_LATE if late else MARK_PAID, now,
                entry, paid_late=late, **changes)
            if written == WriteResult.DUPLICATE:
                return self.replay(tx)
            if written == WriteResult.APPLIED:
                self._count("OrdersPaid")
                self._queue.enqueue(order_id, ref.kind)
                if excess:
                    self._tell(settled)
                return PaymentResult(tx, settled.outcome, settled.reason, order_id=order_id)
            ref = self._ref(order_id)
        raise RuntimeError(f"order {order_id} kept changing while payment {tx} tried to pay it")

    def credit(self, record: PaymentRecord, ref: OrderRef, now: datetime, *, reason: str) -> PaymentResult:
        """Money that pays nothing, credited whole to the wallet of the buyer of the order it points at."""
        amount = record.amount_micros or 0
        entry = credit_entry(record.transaction_id, record.to_address, amount, record.currency, ref.owner_id,
                             ref.order_id, reason, now)
        return self.store(replace(record, order_id=ref.order_id, reason=reason, credited_micros=amount or None), entry)

    def credit_late(self, record: PaymentRecord, order_id: str, now: datetime, *, hint: OrderRef | None = None
                    ) -> PaymentResult:
        """A transfer mined after the order's late window closed pays nothing; it is its buyer's money."""
        ref = hint or self._ref(order_id)
        if ref is None:
            return self.suspend(record, UnmatchedReason.NO_ORDER, now)
        return self.credit(replace(record, outcome=PaymentOutcome.CREDITED), ref, now, reason=UnmatchedReason.TOO_LATE)

    def suspend(self, record: PaymentRecord, reason: str, now: datetime) -> PaymentResult:
        """A transfer that fits no order: in suspense until an operator resolves it. One of nothing (spam
        sends many) is recorded for review with no entry: nothing moved, and an entry needs an amount."""
        entry = suspense_entry(record.transaction_id, record.to_address, record.amount_micros or 0,
                               record.currency, reason, now)
        return self.store(replace(record, outcome=PaymentOutcome.UNMATCHED, reason=reason), entry)

    def store(self, record: PaymentRecord, entry: JournalEntry | None = None) -> PaymentResult:
        """Record a payment that pays no order (credited, in suspense, rejected, waiting for confirmation).
        Only the write that records it tells anyone, so a replay tells nobody again."""
        if not self._payments.record(record, entry):
            return self.replay(record.transaction_id)
        counter = _COUNTERS.get(PaymentOutcome(record.outcome))
        if counter:
            self._count(counter)
        if record.credited_micros or record.outcome in REVIEW_OUTCOMES:
            self._tell(record)
        return PaymentResult(record.transaction_id, PaymentOutcome(record.outcome), record.reason, record.order_id)

    def replay(self, transaction_id: str) -> PaymentResult:
        stored = self._payments.get(transaction_id)
        if stored is None:  # pragma: no cover - a recorded payment is never deleted
            raise RuntimeError(f"payment {transaction_id} vanished")
        return PaymentResult(transaction_id, PaymentOutcome(stored.outcome), stored.reason, stored.order_id,
                             replayed=True)

    def _ref(self, order_id: str) -> OrderRef | None:
        order = self._orders.get(order_id)
        if order is None:
            return None
        return OrderRef(order.order_id, order.owner_id, order.kind, order.amount_micros, order.status)

    def _tell(self, record: PaymentRecord) -> None:
        if self._heard is not None:
            self._heard(record)


_COUNTERS = {PaymentOutcome.REJECTED_TOKEN: "PaymentsRejected", PaymentOutcome.REJECTED_ADDRESS: "PaymentsRejected",
             PaymentOutcome.UNMATCHED: "PaymentsUnmatched", PaymentOutcome.DUPLICATE: "PaymentsDuplicate",
             PaymentOutcome.CREDITED: "PaymentsCredited"}

