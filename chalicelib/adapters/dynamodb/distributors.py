"""Distributors and the admin audit log in DynamoDB; a distributor change and its audit entry are written
in one transaction. Also the redeem-attempt token buckets (Guards table)."""
from __future__ import annotations

from typing import Sequence

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.models import AuditItem, DistributorItem, GuardItem, connection
from chalicelib.domain.shared import encode_cursor
from chalicelib.domain.ports.codes import BucketState
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
    """Redeem-attempt buckets as Guards items (`full_at`, `started_at`, TTL `expires_at`). Each write is one
    UpdateItem whose condition is a range, so concurrent takes add up; none reads first."""

    def read(self, bucket_ids: Sequence[str]) -> dict[str, BucketState]:
        return {item.guard_id: BucketState(int(item.full_at), int(item.started_at or 0))
                for item in GuardItem.batch_get(list(dict.fromkeys(bucket_ids)), consistent_read=True)
                if item.full_at is not None}

    def take_first(self, bucket_id: str, now_s: int, full_at: int, expires_at: int) -> bool:
        return _updated(GuardItem(bucket_id), [GuardItem.full_at.set(full_at), GuardItem.started_at.set(now_s),
                                               GuardItem.expires_at.set(expires_at)],
                        GuardItem.full_at.does_not_exist() | (GuardItem.full_at <= now_s)) is not None

    def take_next(self, bucket_id: str, now_s: int, step: int, horizon: int) -> int | None:
        item = _updated(GuardItem(bucket_id), [GuardItem.full_at.set(GuardItem.full_at + step),
                                               GuardItem.expires_at.set(horizon)],
                        (GuardItem.full_at > now_s) & (GuardItem.full_at <= horizon - step))
        return None if item is None else int(item.started_at or 0)

    def give_back(self, bucket_id: str, step: int, run: int) -> None:
        _updated(GuardItem(bucket_id), [GuardItem.full_at.set(GuardItem.full_at - step)],
                 GuardItem.started_at == run)


def _updated(item: GuardItem, actions: list, condition) -> GuardItem | None:
    """The item after a conditional update, or None when the condition did not hold."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return item
