"""The payments review queue in DynamoDB: the sparse review index (OPEN), and a resolution written with its
journal entry in one transaction, on condition that the payment is still OPEN."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.ledger import ENTRY_WRITE, add_entry
from chalicelib.adapters.dynamodb.models import PaymentItem
from chalicelib.adapters.dynamodb.payments import _BY_REVIEW_KEY, OPEN_REVIEW, _record_from_item, commit_settling
from chalicelib.adapters.dynamodb.transactions import NamedTransaction
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.orders import Order, OrderStatus, Transition
from chalicelib.domain.ports.common import Page, WriteResult
from chalicelib.domain.shared import encode_cursor


class DynamoReviewStore:
    def open_reviews(self, limit: int, cursor: str | None = None) -> Page:
        result = PaymentItem.by_review.query(OPEN_REVIEW, limit=limit, last_evaluated_key=start_key(
            cursor, _BY_REVIEW_KEY, {"review_state": OPEN_REVIEW}))
        return Page([_record_from_item(item) for item in result], encode_cursor(result.last_evaluated_key))

    def resolve(self, transaction_id: str, resolution: dict[str, Any], entry: JournalEntry | None) -> bool:
        transaction = NamedTransaction()
        transaction.update("payment", PaymentItem(transaction_id),
                           [PaymentItem.review_state.remove(), PaymentItem.resolution.set(resolution)],
                           PaymentItem.review_state == OPEN_REVIEW)
        if entry is not None:
            add_entry(transaction, entry)
        failed = transaction.commit()
        if failed - {"payment", ENTRY_WRITE}:
            raise RuntimeError(f"resolving {transaction_id} failed on {sorted(failed)}")
        return not failed

    def attach(self, transaction_id: str, resolution: dict[str, Any], entry: JournalEntry, order: Order,
               transition: Transition, now: datetime, changes: dict[str, Any]) -> WriteResult:
        transaction = NamedTransaction()
        transaction.update("payment", PaymentItem(transaction_id),
                           [PaymentItem.review_state.remove(), PaymentItem.resolution.set(resolution)],
                           PaymentItem.review_state == OPEN_REVIEW)
        leaves_pending = transition.leaves_pending and order.status == OrderStatus.PENDING
        return commit_settling(transaction, order.order_id, order.owner_id if leaves_pending else None, transition,
                               now, changes, entry, f"attaching {transaction_id}")

    def resolution(self, transaction_id: str) -> dict[str, Any] | None:
        try:
            return PaymentItem.get(transaction_id, consistent_read=True).resolution
        except DoesNotExist:
            return None
