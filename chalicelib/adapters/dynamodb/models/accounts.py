"""Per-user and per-chat state: settings, accounts, guards and bot conversations."""
from __future__ import annotations

from pynamodb.attributes import (JSONAttribute, MapAttribute, NumberAttribute, UnicodeAttribute,
                                 UTCDateTimeAttribute)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.adapters.dynamodb.models.base import _Meta


class SettingItem(Model):
    class Meta(_Meta):
        table_name = "settings"

    setting_id = UnicodeAttribute(hash_key=True)
    value = JSONAttribute()
    updated_at = UTCDateTimeAttribute(null=True)


class UsernameIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "username"
        projection = KeysOnlyProjection()

    username_lc = UnicodeAttribute(hash_key=True)


class AccountItem(Model):
    """One per order owner: a Telegram user ("user:<id>") or a distributor ("dist:<id>")."""

    class Meta(_Meta):
        table_name = "accounts"

    account_id = UnicodeAttribute(hash_key=True)
    pending_orders = NumberAttribute(null=True)
    username_lc = UnicodeAttribute(null=True)
    profile = MapAttribute(null=True)
    language = UnicodeAttribute(null=True)             # chosen with /language; else Telegram's language_code
    blocked_at = NumberAttribute(null=True)            # epoch seconds: the user blocked the bot; unset on return
    seen_at = NumberAttribute(null=True)               # epoch seconds of the user's last update to the bot

    by_username = UsernameIndex()


class GuardItem(Model):
    class Meta(_Meta):
        table_name = "guards"

    guard_id = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()
    tokens = NumberAttribute(null=True)          # the notifier's shared send bucket (one item per slot)
    full_at = NumberAttribute(null=True)         # a redeem-attempt bucket: when it is full again
    started_at = NumberAttribute(null=True)      # ... and when its current run of takes started
    value = JSONAttribute(null=True)


class ConversationItem(Model):
    """One per private chat: the bot conversation's step, the user's flood bucket and cached profile
    facts. Expires (TTL) a day after the chat's last update."""

    class Meta(_Meta):
        table_name = "conversations"

    chat_id = NumberAttribute(hash_key=True)
    version = NumberAttribute()                        # optimistic lock: every save names the version read
    step = UnicodeAttribute(null=True)
    data = JSONAttribute(null=True)
    step_at = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)
    username_lc = UnicodeAttribute(null=True)
    tokens = NumberAttribute(null=True)
    refilled_ms = NumberAttribute(null=True)
    notice_ms = NumberAttribute(null=True)
    expires_at = NumberAttribute()
