"""Distributors and the admin audit log in DynamoDB; a distributor change and its audit entry are written
in one transaction. Also the failed-attempt token buckets (GuardStore table)."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.models import AuditItem, DistributorItem, GuardItem, connection
from chalicelib.domain.shared import encode_cursor
from chalicelib.domain.ports.codes import Bucket
from chalicelib.domain.distributors import AuditEntry, Distributor, DistributorStatus
from chalicelib.domain.ports.common import Page


def _audit_item(entry: AuditEntry) -> AuditItem:
    return AuditItem(day=entry.at.date().isoformat(), entry_id=entry.entry_id, at=entry.at, action=entry.action,
                     outcome=entry.outcome, actor=entry.actor, target=entry.target, request_id=entry.request_id,
                     source_ip=entry.source_ip, details=entry.details or None)


def _entry_from(item: AuditItem) -> AuditEntry:
    return AuditEntry(entry_id=item.entry_id, at=item.at, action=item.action, outcome=item.outcome,
                      actor=item.actor, target=item.target, request_id=item.request_id, source_ip=item.source_ip,
                      details=item.details or {})


def _item(distributor: Distributor) -> DistributorItem:
    return DistributorItem(distributor_id=distributor.distributor_id, name=distributor.name,
                           telegram_user_id=distributor.telegram_user_id, status=distributor.status.value,
                           token_hash=distributor.token_hash, created_at=distributor.created_at,
                           updated_at=distributor.updated_at)


def _distributor(item: DistributorItem) -> Distributor:
    return Distributor(distributor_id=item.distributor_id, name=item.name,
                       telegram_user_id=None if item.telegram_user_id is None else int(item.telegram_user_id),
                       status=DistributorStatus(item.status), token_hash=item.token_hash,
                       created_at=item.created_at, updated_at=item.updated_at)


class DynamoDistributorStore:
    def get(self, distributor_id: str) -> Distributor | None:
        try:
            return _distributor(DistributorItem.get(distributor_id, consistent_read=True))
        except DoesNotExist:
            return None

    def create(self, distributor: Distributor, audit: AuditEntry) -> None:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(_item(distributor), condition=DistributorItem.distributor_id.does_not_exist())
            transaction.save(_audit_item(audit), condition=AuditItem.entry_id.does_not_exist())

    def replace(self, distributor: Distributor, expected_token_hash: str, audit: AuditEntry) -> bool:
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.save(_item(distributor), condition=DistributorItem.token_hash == expected_token_hash)
                transaction.save(_audit_item(audit), condition=AuditItem.entry_id.does_not_exist())
        except TransactWriteError as error:
            reasons = [reason.code if reason else None for reason in error.cancellation_reasons]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True


class DynamoAuditStore:
    def record(self, entry: AuditEntry) -> None:
        _audit_item(entry).save(condition=AuditItem.entry_id.does_not_exist())

    def list_day(self, day: str, limit: int, cursor: str | None) -> Page:
        result = AuditItem.query(day, limit=limit,
                                 last_evaluated_key=start_key(cursor, {"day": "S", "entry_id": "S"}, {"day": day}))
        items = [_entry_from(item) for item in result]
        return Page(items, encode_cursor(result.last_evaluated_key))


class DynamoBucketStore:
    """Token buckets as GuardStore items (`tokens`, `refilled_at`, TTL `expires_at`)."""

    def read(self, bucket_ids: Sequence[str], now: datetime) -> dict[str, Bucket]:
        now_s = int(now.timestamp())
        return {item.guard_id: Bucket(int(item.tokens), int(item.refilled_at))
                for item in GuardItem.batch_get(list(dict.fromkeys(bucket_ids)), consistent_read=True)
                if item.tokens is not None and item.refilled_at is not None and item.expires_at > now_s}

    def swap(self, bucket_id: str, seen: Bucket | None, new: Bucket, expires_at: int, now: datetime) -> bool:
        now_s = int(now.timestamp())
        if seen is None:
            condition = GuardItem.guard_id.does_not_exist() | (GuardItem.expires_at <= now_s)
        else:
            condition = ((GuardItem.tokens == seen.tokens) & (GuardItem.refilled_at == seen.refilled_at)
                         & (GuardItem.expires_at > now_s))
        try:
            GuardItem(bucket_id, expires_at=expires_at, tokens=new.tokens, refilled_at=new.refilled_at).save(
                condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
