"""Operators and panel sessions in DynamoDB."""
from __future__ import annotations

from datetime import datetime, timezone

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.adapters.dynamodb.models import OperatorItem, SessionItem
from chalicelib.domain.operators import Operator, PanelSession, Role


def _operator(item: OperatorItem) -> Operator:
    return Operator(item.name, Role.named(item.role), item.password_hash, bool(item.active), item.created_at,
                    item.created_by)


def _saved(item, condition) -> bool:
    try:
        item.save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


class DynamoOperatorStore:
    def get(self, name: str) -> Operator | None:
        try:
            return _operator(OperatorItem.get(name, consistent_read=True))
        except DoesNotExist:
            return None

    def all(self) -> list[Operator]:
        return [_operator(item) for item in OperatorItem.scan()]

    def _item(self, operator: Operator) -> OperatorItem:
        return OperatorItem(operator.name, role=operator.role.label, password_hash=operator.password_hash,
                            active=operator.active, created_at=operator.created_at, created_by=operator.created_by)

    def create(self, operator: Operator) -> bool:
        return _saved(self._item(operator), OperatorItem.name.does_not_exist())

    def replace(self, operator: Operator, expected_active: bool) -> bool:
        return _saved(self._item(operator), OperatorItem.active == expected_active)


class DynamoSessionStore:
    def create(self, session: PanelSession) -> None:
        SessionItem(session.token_hash, principal=session.principal, role=session.role.label,
                    csrf_token=session.csrf_token, created_at=session.created_at,
                    expires_at=int(session.expires_at.timestamp()), source_ip=session.source_ip
                    ).save(condition=SessionItem.token_hash.does_not_exist())

    def get(self, token_hash: str) -> PanelSession | None:
        try:
            item = SessionItem.get(token_hash, consistent_read=True)
        except DoesNotExist:
            return None
        if item.revoked:
            return None
        return PanelSession(item.token_hash, item.principal, Role.named(item.role), item.csrf_token, item.created_at,
                            datetime.fromtimestamp(int(item.expires_at), tz=timezone.utc), item.source_ip)

    def revoke(self, token_hash: str) -> None:
        SessionItem(token_hash).update(actions=[SessionItem.revoked.set(True)],
                                       condition=SessionItem.token_hash.exists())

    def revoke_all(self, principal: str) -> int:
        revoked = 0
        for key in SessionItem.by_principal.query(principal):
            self.revoke(key.token_hash)
            revoked += 1
        return revoked
