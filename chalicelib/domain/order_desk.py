"""What an operator does to one order from the panel, each with a reason: retry its delivery, mark it delivered
(with proof), refund it (to the buyer's wallet; an order paid in Stars back in Stars, its payment method
decides), cancel it while it waits for payment.

These steps are the operator's, outside the automatic state machine (chalicelib/domain/orders.py keeps
NEEDS_REVIEW terminal for the workers). Each is one conditional write naming the states it expects, so a worker
or another operator acting meanwhile makes it a 409 and changes nothing; a refund writes its journal entry in
the same transaction. The order keeps the operator's notes in `details["operator_actions"]`, and the audit log
gets the order before and after."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.domain.gifting import Refunds, WalletRefunds
from chalicelib.domain.ledger import refundable_micros
from chalicelib.domain.orders import Order, OrderStatus as S, Transition
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.orders import OrderQueue, OrderStore
from chalicelib.domain.products import ProductRegistry
from chalicelib.domain.shared import iso

RETRY_DELIVERY = Transition("retry_delivery", frozenset({S.NEEDS_REVIEW}), S.PAID)
CONFIRM_DELIVERED = Transition("confirm_delivered", frozenset({S.NEEDS_REVIEW, S.WAITING_STARS}), S.DELIVERED)
REFUND_TO_WALLET = Transition("refund_to_wallet", frozenset({S.NEEDS_REVIEW, S.PAID, S.PAID_LATE,
                                                             S.WAITING_STARS, S.WAITING_FUNDS}), S.FAILED)
CANCEL_PENDING = Transition("cancel_by_operator", frozenset({S.PENDING}), S.CANCELLED)
# Orders a worker will pick up again: a retry only queues them once more.
QUEUED_AGAIN = frozenset({S.PAID, S.PAID_LATE, S.WAITING_STARS, S.WAITING_FUNDS})
NOTES_KEPT = 20


def snapshot(order: Order) -> dict[str, Any]:
    """What the audit log keeps of an order before and after an action."""
    return {"status": order.status.value, "paid_micros": order.paid_micros, "failure_reason": order.failure_reason,
            "delivered_at": iso(order.delivered_at) if order.delivered_at else None}


class OrderDesk:
    def __init__(self, orders: OrderStore, queue: OrderQueue, products: ProductRegistry, notices: Any,
                 clock: Clock, audit: Any, refunds: Refunds | None = None) -> None:
        self._refunds = refunds or WalletRefunds()
        self._orders = orders
        self._queue = queue
        self._products = products
        self._notices = notices
        self._clock = clock
        self._audit = audit

    @staticmethod
    def steps_for(order: Order) -> list[str]:
        """The operator steps that apply to the order as it is now."""
        applies = {"retry": order.status in RETRY_DELIVERY.sources | QUEUED_AGAIN,
                   "refund": order.status in REFUND_TO_WALLET.sources and refund_entry_applies(order),
                   "delivered": order.status in CONFIRM_DELIVERED.sources,
                   "cancel": order.status in CANCEL_PENDING.sources}
        return [step for step, applied in applies.items() if applied]

    def order(self, order_id: str) -> Order:
        order = self._orders.get(order_id) if 0 < len(order_id) <= 64 and order_id.isalnum() else None
        if order is None:
            raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND", field="order_id")
        return order

    def retry_delivery(self, actor: AdminActor, order_id: str, reason: str) -> Order:
        _reason(reason)
        order = self.order(order_id)
        if order.status in QUEUED_AGAIN:
            after = order
        else:
            after = self._apply(actor, order, RETRY_DELIVERY, "retry_delivery", reason)
        self._queue.enqueue(order.order_id, order.kind)
        self._record(actor, "order.retry_delivery", order, after, reason)
        return after

    def mark_delivered(self, actor: AdminActor, order_id: str, reason: str, proof: str) -> Order:
        if not proof.strip():
            raise ValidationFailed("proof: say how you know it was delivered", code="PROOF_REQUIRED", field="proof")
        order = self.order(order_id)
        after = self._apply(actor, order, CONFIRM_DELIVERED, "mark_delivered", reason, proof=proof.strip()[:300],
                            delivered_at=self._clock.now())
        self._record(actor, "order.mark_delivered", order, after, reason, proof=proof.strip()[:300])
        return after

    def refund(self, actor: AdminActor, order_id: str, reason: str) -> Order:
        order = self.order(order_id)
        entry = self._refunds.refund_entry(order, f"refund by operator: {reason}", self._clock.now())
        if entry is None:
            raise Conflict("nothing was paid in money for this order; cancel or mark it instead",
                           code="NOTHING_TO_REFUND")
        after = self._apply(actor, order, REFUND_TO_WALLET, "refund", reason, entry=entry,
                            failure_reason=f"refunded by operator: {reason}"[:500])
        rules = self._products.by_kind(order.kind).notices
        try:
            self._refunds.refunded(after)       # Stars: refundStarPayment, sent by this write's author only
        except Exception as error:  # noqa: BLE001 - booked already: the operator finishes it by hand
            self._notices.alert(f"refund-send:{order.order_id}", f"Refund of order {order.order_id} was booked "
                                f"but not sent: {error}. Send it by hand (refundStarPayment with its charge id).")
        self._notices.payment_event(after, self._refunds.refund_event(after), refundable_micros(order), rules)
        self._record(actor, "order.refund", order, after, reason, refunded_micros=refundable_micros(order),
                     entry_id=entry.entry_id)
        return after

    def cancel(self, actor: AdminActor, order_id: str, reason: str) -> Order:
        order = self.order(order_id)
        after = self._apply(actor, order, CANCEL_PENDING, "cancel", reason)
        self._record(actor, "order.cancel", order, after, reason)
        return after

    def _apply(self, actor: AdminActor, order: Order, transition: Transition, action: str, reason: str, *,
               entry: Any = None, proof: str | None = None, **changes: Any) -> Order:
        reason = _reason(reason)
        if order.status not in transition.sources:
            allowed = ", ".join(sorted(status.value for status in transition.sources))
            raise Conflict(f"order {order.order_id} is {order.status.value}; {action} needs {allowed}",
                           code="ORDER_STATE")
        now = self._clock.now()
        note = {"at": iso(now), "by": actor.key_fingerprint, "action": action, "reason": reason}
        if proof:
            note["proof"] = proof
        notes = [*order.details.get("operator_actions", []), note][-NOTES_KEPT:]
        details = {**order.details, "operator_actions": notes}
        # The write names the status read, not every source of the step: two operators acting at once (a retry
        # and a refund) or a worker claiming the order make all but the first a 409.
        expected = Transition(transition.name, frozenset({order.status}), transition.target)
        after = self._orders.apply(order, expected, now, entry, details=details, **changes)
        if after is None:
            raise Conflict(f"order {order.order_id} changed meanwhile; reload it", code="ORDER_CHANGED")
        return after

    def _record(self, actor: AdminActor, action: str, before: Order, after: Order, reason: str,
                **details: Any) -> None:
        self._audit.record_action(actor, action, f"order:{before.order_id}", reason=reason.strip(),
                                  before=snapshot(before), after=snapshot(after), **details)


def refund_entry_applies(order: Order) -> bool:
    return refundable_micros(order) > 0


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("reason: say why", code="REASON_REQUIRED", field="reason")
    return reason[:300]
