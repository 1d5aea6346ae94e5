"""PynamoDB models: the only code that knows item shapes. Keys and indexes mirror infra/resources.yaml
(tests/infra checks that they do). Table names are bound at run time from the resource prefix."""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, JSONAttribute, MapAttribute, NumberAttribute,
                                 UnicodeAttribute, UTCDateTimeAttribute)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model


class _Meta:
    region = "us-east-1"
    host: str | None = None
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3


class OwnerCreatedIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "owner-created"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OpenDueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "open-due"
        projection = AllProjection()

    open_status = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class OrderItem(Model):
    class Meta(_Meta):
        table_name = "orders"

    order_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    status = UnicodeAttribute()
    product_id = UnicodeAttribute()
    amount_micros = NumberAttribute()
    currency = UnicodeAttribute()
    network = UnicodeAttribute()
    pay_to = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)
    payable_until = UTCDateTimeAttribute(null=True)
    status_changed_at = UTCDateTimeAttribute()
    open_status = UnicodeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    buyer_user_id = NumberAttribute(null=True)
    recipient_user_id = NumberAttribute(null=True)
    month_count = NumberAttribute(null=True)
    star_count = NumberAttribute(null=True)
    plan_id = UnicodeAttribute(null=True)
    quantity = NumberAttribute(null=True)
    payment_tx = UnicodeAttribute(null=True)
    paid_micros = NumberAttribute(null=True)
    paid_at = UTCDateTimeAttribute(null=True)
    paid_late = BooleanAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    redemption_id = UnicodeAttribute(null=True)
    notify_chat_id = NumberAttribute(null=True)
    notify_message_id = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)
    fulfillment_total = NumberAttribute(null=True)
    fulfillment_done = NumberAttribute(null=True)
    fulfillment_error = UnicodeAttribute(null=True)

    by_owner = OwnerCreatedIndex()
    by_open_due = OpenDueIndex()


class SlotGroupIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "slot-group"
        projection = IncludeProjection(["held_until"])

    slot_group = UnicodeAttribute(hash_key=True)
    amount_micros = NumberAttribute(range_key=True)


class SlotFractionIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "slot-fraction"
        projection = IncludeProjection(["held_until", "order_id", "base_micros"])

    fraction_key = UnicodeAttribute(hash_key=True)
    amount_micros = NumberAttribute(range_key=True)


class PaymentSlotItem(Model):
    class Meta(_Meta):
        table_name = "payment-slots"

    slot_id = UnicodeAttribute(hash_key=True)          # "<address>#<amount micros>"
    slot_group = UnicodeAttribute()                    # "<address>#<base price micros>"
    fraction_key = UnicodeAttribute()                  # "<address>#<amount below one unit, micros>"
    amount_micros = NumberAttribute()
    base_micros = NumberAttribute()
    order_id = UnicodeAttribute()
    held_until = NumberAttribute()                     # epoch seconds
    expires_at = NumberAttribute()                     # TTL, a day after held_until

    by_group = SlotGroupIndex()
    by_fraction = SlotFractionIndex()


class ReviewReceivedIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "review-received"
        projection = AllProjection()

    review_state = UnicodeAttribute(hash_key=True)
    received_at = UTCDateTimeAttribute(range_key=True)


class PaymentItem(Model):
    class Meta(_Meta):
        table_name = "payments"

    transaction_id = UnicodeAttribute(hash_key=True)
    received_at = UTCDateTimeAttribute()
    from_address = UnicodeAttribute()
    to_address = UnicodeAttribute()
    token_contract = UnicodeAttribute()
    token_symbol = UnicodeAttribute(null=True)
    amount_micros = NumberAttribute(null=True)
    block_timestamp_ms = NumberAttribute(null=True)
    confirmed = BooleanAttribute()
    outcome = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    review_state = UnicodeAttribute(null=True)
    raw = JSONAttribute(null=True)

    by_review = ReviewReceivedIndex()


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

    by_username = UsernameIndex()


class GuardItem(Model):
    class Meta(_Meta):
        table_name = "guards"

    guard_id = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()
    tokens = NumberAttribute(null=True)
    refilled_at = NumberAttribute(null=True)
    value = JSONAttribute(null=True)


ALL_MODELS: list[type[Model]] = [OrderItem, PaymentSlotItem, PaymentItem, SettingItem, AccountItem, GuardItem]
_TABLE_SUFFIX = {model: model.Meta.table_name for model in ALL_MODELS}
_connection: Connection | None = None


def register_model(model: type[Model]) -> type[Model]:
    """Other modules' models join the same binding (their Meta.table_name is the suffix)."""
    if model not in _TABLE_SUFFIX:
        ALL_MODELS.append(model)
        _TABLE_SUFFIX[model] = model.Meta.table_name
    return model


def bind(prefix: str, region: str, endpoint_url: str | None) -> None:
    """Point every model at `<prefix>-<suffix>` on the given endpoint."""
    global _connection
    for model in ALL_MODELS:
        model.Meta.table_name = f"{prefix}-{_TABLE_SUFFIX[model]}"
        model.Meta.region = region
        model.Meta.host = endpoint_url
        model._connection = None
    _connection = None


def connection() -> Connection:
    """One low-level connection for transactions, configured like the models."""
    global _connection
    if _connection is None:
        _connection = Connection(region=OrderItem.Meta.region, host=OrderItem.Meta.host)
    return _connection


def table_suffix(model: type[Model]) -> str:
    return _TABLE_SUFFIX[model]
