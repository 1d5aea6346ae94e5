"""Received transfers, stored once per transaction id whatever their outcome."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.adapters.dynamodb.models import PaymentItem
from chalicelib.domain.ports import PaymentRecord

# Outcomes an operator has to look at; the review index holds only these.
NEEDS_REVIEW = frozenset({"UNMATCHED", "DUPLICATE", "REJECTED_TOKEN", "REJECTED_ADDRESS"})
OPEN_REVIEW = "OPEN"


def _record_from_item(item: PaymentItem) -> PaymentRecord:
    return PaymentRecord(transaction_id=item.transaction_id, received_at=item.received_at,
                         from_address=item.from_address, to_address=item.to_address,
                         token_contract=item.token_contract, token_symbol=item.token_symbol or "",
                         amount_micros=None if item.amount_micros is None else int(item.amount_micros),
                         block_timestamp_ms=None if item.block_timestamp_ms is None else int(item.block_timestamp_ms),
                         confirmed=item.confirmed, outcome=item.outcome, reason=item.reason,
                         order_id=item.order_id, raw=item.raw or {})


class DynamoPaymentRepository:
    def insert(self, record: PaymentRecord) -> bool:
        item = PaymentItem(transaction_id=record.transaction_id, received_at=record.received_at,
                           from_address=record.from_address, to_address=record.to_address,
                           token_contract=record.token_contract, token_symbol=record.token_symbol or None,
                           amount_micros=record.amount_micros, block_timestamp_ms=record.block_timestamp_ms,
                           confirmed=record.confirmed, outcome=record.outcome, reason=record.reason,
                           order_id=record.order_id, raw=record.raw,
                           review_state=OPEN_REVIEW if record.outcome in NEEDS_REVIEW else None)
        try:
            item.save(condition=PaymentItem.transaction_id.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, transaction_id: str) -> PaymentRecord | None:
        try:
            return _record_from_item(PaymentItem.get(transaction_id, consistent_read=True))
        except DoesNotExist:
            return None

    def settle(self, transaction_id: str, expected_outcomes: frozenset[str], outcome: str,
               reason: str | None, order_id: str | None, confirmed: bool) -> bool:
        actions = [PaymentItem.outcome.set(outcome), PaymentItem.confirmed.set(confirmed)]
        for attribute, value in ((PaymentItem.reason, reason), (PaymentItem.order_id, order_id),
                                 (PaymentItem.review_state, OPEN_REVIEW if outcome in NEEDS_REVIEW else None)):
            actions.append(attribute.remove() if value is None else attribute.set(value))
        try:
            PaymentItem(transaction_id).update(actions=actions,
                                               condition=PaymentItem.outcome.is_in(*expected_outcomes))
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
