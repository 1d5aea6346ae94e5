"""Live settings (prices, plans) as JSON values keyed by name."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.adapters.dynamodb.models import SettingItem


class DynamoSettingsStore:
    def get(self, setting_id: str) -> Any | None:
        try:
            return SettingItem.get(setting_id).value
        except DoesNotExist:
            return None

    def put(self, setting_id: str, value: Any) -> None:
        SettingItem(setting_id, value=value, updated_at=datetime.now(timezone.utc)).save()

    def put_if_absent(self, setting_id: str, value: Any) -> None:
        try:
            SettingItem(setting_id, value=value, updated_at=datetime.now(timezone.utc)).save(
                condition=SettingItem.setting_id.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
