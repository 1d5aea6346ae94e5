"""Short-lived markers with a TTL: processed updates, alert cooldowns."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb.models import GuardItem


class DynamoGuardStore:
    def claim(self, guard_id: str, ttl_seconds: int, now: datetime) -> bool:
        epoch = int(now.timestamp())
        try:
            GuardItem(guard_id, expires_at=epoch + ttl_seconds).save(
                condition=GuardItem.guard_id.does_not_exist() | (GuardItem.expires_at <= epoch))
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def held_until(self, guard_ids: list[str]) -> dict[str, int]:
        return {item.guard_id: int(item.expires_at) for item in GuardItem.batch_get(guard_ids)}
