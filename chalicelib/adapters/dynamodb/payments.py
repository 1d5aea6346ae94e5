"""Received transfers, stored once per transaction id whatever their outcome. A transfer that pays an
order is recorded in the same transaction as the order's status change."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterator

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.ledger import ENTRY_WRITE, SHARDS, add_entry, day_shard
from chalicelib.adapters.dynamodb.models import AccountItem, OrderItem, PaymentItem
from chalicelib.adapters.dynamodb.orders import transition_update
from chalicelib.adapters.dynamodb.transactions import NamedTransaction
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.orders import Transition
from chalicelib.domain.ports.common import Page, WriteResult
from chalicelib.domain.ports.payments import PaymentRecord
from chalicelib.domain.settlement import BOOKED_OUTCOMES, REVIEW_OUTCOMES
from chalicelib.domain.shared import encode_cursor

# The review index holds what an operator has to look at (OPEN) and what waits for a confirmation
# (WAITING), which the repair job moves to OPEN after a deadline.
OPEN_REVIEW = "OPEN"
WAITING = "WAITING"
REPLACEABLE = "PENDING_CONFIRMATION"

_BY_REVIEW_KEY = {"transaction_id": "S", "review_state": "S", "received_at": "S"}

def _record_from_item(item: PaymentItem) -> PaymentRecord:
    return PaymentRecord(transaction_id=item.transaction_id, received_at=item.received_at,
                         from_address=item.from_address, to_address=item.to_address,
                         token_contract=item.token_contract, token_symbol=item.token_symbol or "",
                         amount_micros=None if item.amount_micros is None else int(item.amount_micros),
                         block_timestamp_ms=None if item.block_timestamp_ms is None else int(item.block_timestamp_ms),
                         confirmed=item.confirmed, outcome=item.outcome, reason=item.reason,
                         order_id=item.order_id, raw=item.raw or {}, method=item.method or "trc20",
                         currency=item.currency or "USDT",
                         credited_micros=None if item.credited_micros is None else int(item.credited_micros))


def _item_for(record: PaymentRecord) -> PaymentItem:
    return PaymentItem(transaction_id=record.transaction_id, received_at=record.received_at,
                       from_address=record.from_address, to_address=record.to_address,
                       token_contract=record.token_contract, token_symbol=record.token_symbol or None,
                       amount_micros=record.amount_micros, block_timestamp_ms=record.block_timestamp_ms,
                       confirmed=record.confirmed, outcome=record.outcome, reason=record.reason,
                       order_id=record.order_id, raw=record.raw, method=record.method, currency=record.currency,
                       review_state=_review_state(record.outcome), credited_micros=record.credited_micros,
                       day_shard=day_shard(record.received_at, record.transaction_id)
                       if record.outcome in BOOKED_OUTCOMES and record.amount_micros else None)


def _review_state(outcome: str) -> str | None:
    if outcome in REVIEW_OUTCOMES:
        return OPEN_REVIEW
    return WAITING if outcome == REPLACEABLE else None


def _write_condition(record: PaymentRecord) -> Any:
    new = PaymentItem.transaction_id.does_not_exist()
    if record.outcome == REPLACEABLE:
        return new
    return new | (PaymentItem.outcome == REPLACEABLE)


def commit_settling(transaction: NamedTransaction, order_id: str, owner_id: str | None, transition: Transition,
                    now: datetime, changes: dict[str, Any], entry: JournalEntry, doing: str) -> WriteResult:
    """Commit a transaction that already holds its payment write (named "payment") with the order's step, the
    owner's open-order place given back (`owner_id`, when the order leaves PENDING) and the ledger entry:
    DUPLICATE when the payment or the entry was written before, STALE when the order has moved on."""
    actions, condition = transition_update(transition, now, changes, order_id)
    transaction.update("order", OrderItem(order_id), actions, condition)
    if owner_id is not None:
        transaction.update("open-orders", AccountItem(owner_id), [AccountItem.pending_orders.add(-1)],
                           AccountItem.pending_orders > 0)
    add_entry(transaction, entry)
    failed = transaction.commit()
    if {"payment", ENTRY_WRITE} & failed:
        return WriteResult.DUPLICATE
    if "order" in failed:
        return WriteResult.STALE
    if failed:
        raise RuntimeError(f"{doing} failed on {sorted(failed)}")
    return WriteResult.APPLIED


class DynamoPaymentStore:
    def record(self, record: PaymentRecord, entry: JournalEntry | None = None) -> bool:
        if entry is None:
            try:
                _item_for(record).save(condition=_write_condition(record))
            except PutError as error:
                if error.cause_response_code == "ConditionalCheckFailedException":
                    return False
                raise
            return True
        transaction = NamedTransaction()
        transaction.put("payment", _item_for(record), _write_condition(record))
        add_entry(transaction, entry)
        return not ({"payment", ENTRY_WRITE} & transaction.commit())

    def record_settling(self, record: PaymentRecord, order_id: str, owner_id: str | None, transition: Transition,
                        now: datetime, entry: JournalEntry, **changes: Any) -> WriteResult:
        transaction = NamedTransaction()
        transaction.put("payment", _item_for(record), _write_condition(record))
        return commit_settling(transaction, order_id, owner_id, transition, now, changes, entry,
                               f"settling {record.transaction_id}")

    def get(self, transaction_id: str) -> PaymentRecord | None:
        try:
            return _record_from_item(PaymentItem.get(transaction_id, consistent_read=True))
        except DoesNotExist:
            return None

    def waiting(self, received_before: datetime, limit: int, cursor: str | None = None) -> Page:
        result = PaymentItem.by_review.query(WAITING, PaymentItem.received_at <= received_before, limit=limit,
                                             last_evaluated_key=start_key(cursor, _BY_REVIEW_KEY,
                                                                          {"review_state": WAITING}))
        items = [_record_from_item(item) for item in result]
        return Page(items, encode_cursor(result.last_evaluated_key))

    def booked_of_day(self, day: date) -> Iterator[PaymentRecord]:
        for shard in range(SHARDS):
            for item in PaymentItem.by_day.query(f"{day.isoformat()}#{shard}"):
                yield _record_from_item(item)

    def pointing_at(self, order_id: str, limit: int) -> list[str]:
        return [item.transaction_id for item in PaymentItem.by_order.query(order_id, limit=limit)]

    def surface(self, transaction_id: str, reason: str) -> bool:
        try:
            PaymentItem(transaction_id).update(
                actions=[PaymentItem.review_state.set(OPEN_REVIEW), PaymentItem.reason.set(reason)],
                condition=(PaymentItem.outcome == REPLACEABLE) & (PaymentItem.review_state == WAITING))
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
