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

    def versioned(self, setting_id: str) -> tuple[Any | None, str]:
        """The value and its version (when it was last written; "" when never), for a change that names it."""
        try:
            item = SettingItem.get(setting_id, consistent_read=True)
        except DoesNotExist:
            return None, ""
        return item.value, item.updated_at.isoformat() if item.updated_at else ""

    def replace(self, setting_id: str, value: Any, version: str) -> bool:
        """Write the value only if the setting is still at `version`; False when someone changed it meanwhile."""
        if version:
            condition = SettingItem.updated_at == datetime.fromisoformat(version)
        else:
            condition = SettingItem.setting_id.does_not_exist() | SettingItem.updated_at.does_not_exist()
        try:
            SettingItem(setting_id, value=value, updated_at=datetime.now(timezone.utc)).save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
