"""The review queue of payments an operator resolves from the panel: transfers in suspense (they fit no order)
and transfers not in our books (a foreign token, an address that is not ours, never confirmed).

- credit to a wallet: the money in suspense goes to the wallet (an entry suspense -> wallet);
- mark returned on chain: the money was sent back with the given transaction (suspense -> adjustments);
- attach to an order: the transfer pays an order still waiting for payment (or expired, or cancelled) when it
  covers the price: suspense -> the product's account, any excess -> the buyer's wallet, and the order moves
  to PAID (PAID_LATE) in the same transaction, then goes to its product's queue;
- dismiss: only what holds no money in suspense (a rejected or empty transfer).
Each resolution is one transaction: the payment leaves the queue on condition that it is still in it, with its
entry, so two operators (or a double click) resolve it once. The audit log gets the payment before and after."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.domain.ledger import JournalEntry, Line, Purpose, adjustments, suspense, wallet
from chalicelib.domain.orders import MARK_PAID, MARK_PAID_LATE, PAYABLE, Order, OrderStatus
from chalicelib.domain.money import format_amount
from chalicelib.domain.ports.common import Clock, Page, WriteResult
from chalicelib.domain.ports.orders import OrderQueue, OrderStore
from chalicelib.domain.ports.panel import ReviewStore
from chalicelib.domain.ports.payments import PaymentRecord, PaymentStore
from chalicelib.domain.settlement import PaymentOutcome
from chalicelib.domain.shared import iso

OWNER_PATTERN = re.compile(r"^(user:[1-9][0-9]{0,15}|dist:[A-Za-z0-9]{1,64})$")
TX_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class ReviewItem:
    record: PaymentRecord
    in_suspense: bool


class PaymentDesk:
    def __init__(self, payments: PaymentStore, reviews: ReviewStore, orders: OrderStore, queue: OrderQueue,
                 settles_to: Callable[[str, str, str], str], clock: Clock, audit: Any) -> None:
        self._payments = payments
        self._reviews = reviews
        self._orders = orders
        self._queue = queue
        self._settles_to = settles_to    # (kind, owner id, currency) -> the account an order's price goes to
        self._clock = clock
        self._audit = audit

    def queue(self, limit: int = 100, cursor: str | None = None) -> Page:
        page = self._reviews.open_reviews(limit, cursor)
        return Page([ReviewItem(record, _in_suspense(record)) for record in page.items], page.cursor)

    def payment(self, transaction_id: str) -> PaymentRecord:
        record = self._payments.get(transaction_id) if 0 < len(transaction_id) <= 128 else None
        if record is None:
            raise NotFound(f"payment {transaction_id} not found", code="PAYMENT_NOT_FOUND", field="transaction_id")
        return record

    def credit_to_wallet(self, actor: AdminActor, transaction_id: str, owner_id: str, reason: str) -> dict:
        if not OWNER_PATTERN.match(owner_id):
            raise ValidationFailed("owner_id: user:<telegram id> or dist:<distributor id>", code="OWNER_INVALID",
                                   field="owner_id")
        record, reason = self._in_suspense(transaction_id), _reason(reason)
        amount = record.amount_micros or 0
        entry = self._entry(f"resolve:{transaction_id}", record, wallet(owner_id, record.currency), amount,
                            f"transfer {transaction_id[:12]} credited: {reason}")
        return self._resolve(actor, record, "credit", reason, entry, owner_id=owner_id, amount_micros=amount)

    def mark_returned(self, actor: AdminActor, transaction_id: str, return_tx: str, reason: str) -> dict:
        if not TX_PATTERN.match(return_tx):
            raise ValidationFailed("return_tx: the 64 hex characters of the transaction that sent it back",
                                   code="RETURN_TX_INVALID", field="return_tx")
        record, reason = self.payment(transaction_id), _reason(reason)
        entry = None
        if _in_suspense(record):
            entry = self._entry(f"return:{transaction_id}", record, adjustments(record.currency),
                                record.amount_micros or 0, f"returned on chain in {return_tx}: {reason}")
        return self._resolve(actor, record, "returned", reason, entry, return_tx=return_tx.lower())

    def attach_to_order(self, actor: AdminActor, transaction_id: str, order_id: str, reason: str) -> dict:
        record, reason = self._in_suspense(transaction_id), _reason(reason)
        order = self._orders.get(order_id) if 0 < len(order_id) <= 64 and order_id.isalnum() else None
        if order is None:
            raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND", field="order_id")
        paid = record.amount_micros or 0
        if order.status not in PAYABLE:
            raise Conflict(f"order {order_id} is {order.status.value}, not waiting for payment: credit the transfer "
                           "to the buyer's wallet instead", code="ORDER_STATE", field="order_id")
        if order.currency != record.currency or paid < order.amount_micros:
            raise Conflict(f"the transfer ({format_amount(paid, 2)} {record.currency}) does not cover the order "
                           f"({format_amount(order.amount_micros, 2)} {order.currency}): credit it to the wallet",
                           code="UNDERPAID", field="order_id")
        now = self._clock.now()
        entry = self._paying_entry(record, order, paid)
        resolution = self._resolution(actor, "attached", reason, entry, order_id=order_id)
        late = order.status != OrderStatus.PENDING
        note = {"at": iso(now), "by": actor.key_fingerprint, "action": "attach_payment",
                "reason": f"transfer {transaction_id} attached: {reason}"}
        changes = {"payment_tx": transaction_id, "paid_micros": paid, "paid_at": now, "paid_late": late,
                   "details": {**order.details, "operator_actions": [*order.details.get("operator_actions", []),
                                                                     note]}}
        written = self._reviews.attach(transaction_id, resolution, entry, order, MARK_PAID_LATE if late else MARK_PAID,
                                       now, changes)
        if written == WriteResult.DUPLICATE:
            raise Conflict("this payment is not waiting for review any more; reload it", code="PAYMENT_RESOLVED")
        if written == WriteResult.STALE:
            raise Conflict(f"order {order_id} changed meanwhile; reload it", code="ORDER_CHANGED", field="order_id")
        self._queue.enqueue(order.order_id, order.kind)
        self._audit.record_action(actor, "payment.attached", f"payment:{transaction_id}", reason=reason,
                                  order_id=order_id, before={"review": "OPEN", "order_status": order.status.value},
                                  after={"review": "attached", "order_status": (MARK_PAID_LATE if late
                                                                                else MARK_PAID).target.value})
        return resolution

    def _paying_entry(self, record: PaymentRecord, order: Order, paid: int) -> JournalEntry:
        """Suspense pays the price to where the product settles, the excess to the buyer's wallet (one line when
        they are the same account: a top-up)."""
        lines: dict[str, int] = {suspense(record.currency): -paid}
        price_to = self._settles_to(order.kind, order.owner_id, order.currency)
        lines[price_to] = lines.get(price_to, 0) + order.amount_micros
        excess_to = wallet(order.owner_id, order.currency)
        lines[excess_to] = lines.get(excess_to, 0) + paid - order.amount_micros
        return JournalEntry(f"attach:{record.transaction_id}", Purpose.ADJUSTMENT, record.currency,
                            tuple(Line(account, amount) for account, amount in lines.items() if amount),
                            self._clock.now(), order_id=order.order_id,
                            memo=f"transfer {record.transaction_id[:12]} attached to order {order.order_id}")

    def dismiss(self, actor: AdminActor, transaction_id: str, reason: str) -> dict:
        record, reason = self.payment(transaction_id), _reason(reason)
        if _in_suspense(record):
            raise Conflict(f"{format_amount(record.amount_micros or 0, 2)} {record.currency} of this transfer are "
                           "in suspense: credit it to a wallet or mark it returned", code="MONEY_IN_SUSPENSE")
        return self._resolve(actor, record, "dismissed", reason, None)

    def _in_suspense(self, transaction_id: str) -> PaymentRecord:
        record = self.payment(transaction_id)
        if not _in_suspense(record):
            raise Conflict("only a transfer in suspense (unmatched, with an amount) can be credited",
                           code="NOT_IN_SUSPENSE")
        return record

    def _entry(self, entry_id: str, record: PaymentRecord, to_account: str, amount: int, memo: str) -> JournalEntry:
        # No transaction id on the entry: the transfer's own entry (pay:<tx>) is the one reconciliation pairs it with.
        return JournalEntry(entry_id, Purpose.ADJUSTMENT, record.currency,
                            (Line(suspense(record.currency), -amount), Line(to_account, amount)),
                            self._clock.now(), memo=memo[:200])

    def _resolution(self, actor: AdminActor, how: str, reason: str, entry: JournalEntry | None,
                    **facts: Any) -> dict:
        resolution = {"how": how, "reason": reason, "by": actor.key_fingerprint, "at": iso(self._clock.now()),
                      **facts}
        if entry is not None:
            resolution["entry_id"] = entry.entry_id
        return resolution

    def _resolve(self, actor: AdminActor, record: PaymentRecord, how: str, reason: str,
                 entry: JournalEntry | None, **facts: Any) -> dict:
        resolution = self._resolution(actor, how, reason, entry, **facts)
        if not self._reviews.resolve(record.transaction_id, resolution, entry):
            raise Conflict("this payment is not waiting for review any more; reload it", code="PAYMENT_RESOLVED")
        self._audit.record_action(actor, f"payment.{how}", f"payment:{record.transaction_id}", reason=reason,
                                  before={"outcome": record.outcome, "review": "OPEN"},
                                  after={"outcome": record.outcome, "review": how}, **facts)
        return resolution


def _in_suspense(record: PaymentRecord) -> bool:
    return record.outcome == PaymentOutcome.UNMATCHED and (record.amount_micros or 0) > 0


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("reason: say why", code="REASON_REQUIRED", field="reason")
    return reason[:300]
