"""The review queue of payments an operator resolves from the panel: transfers in suspense (they fit no order)
and transfers not in our books (a foreign token, an address that is not ours, never confirmed).

- credit to a wallet: the money in suspense goes to the wallet (an entry suspense -> wallet);
- mark returned on chain: the money was sent back with the given transaction (suspense -> adjustments);
- dismiss: only what holds no money in suspense (a rejected or empty transfer).
Each resolution is one transaction: the payment leaves the queue on condition that it is still in it, with its
entry, so two operators (or a double click) resolve it once. The audit log gets the payment before and after."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.domain.ledger import JournalEntry, Line, Purpose, adjustments, suspense, wallet
from chalicelib.domain.money import format_amount
from chalicelib.domain.ports.common import Clock, Page
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
    def __init__(self, payments: PaymentStore, reviews: ReviewStore, clock: Clock, audit: Any) -> None:
        self._payments = payments
        self._reviews = reviews
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

    def _resolve(self, actor: AdminActor, record: PaymentRecord, how: str, reason: str,
                 entry: JournalEntry | None, **facts: Any) -> dict:
        resolution = {"how": how, "reason": reason, "by": actor.key_fingerprint, "at": iso(self._clock.now()),
                      **facts}
        if entry is not None:
            resolution["entry_id"] = entry.entry_id
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
