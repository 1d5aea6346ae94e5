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
    payment_method = UnicodeAttribute(null=True)       # absent on orders written before methods: "trc20"
    network = UnicodeAttribute(null=True)
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
    code_max_uses = NumberAttribute(null=True)
    code_valid_days = NumberAttribute(null=True)
    details = JSONAttribute(null=True)                 # a product's own facts (see Order.details)

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
    owner_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
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
    method = UnicodeAttribute(null=True)               # the payment method; absent: "trc20"
    currency = UnicodeAttribute(null=True)             # absent: "USDT"

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
    language = UnicodeAttribute(null=True)             # chosen with /language; else Telegram's language_code
    blocked_at = NumberAttribute(null=True)            # epoch seconds: the user blocked the bot; unset on return
    seen_at = NumberAttribute(null=True)               # epoch seconds of the user's last update to the bot

    by_username = UsernameIndex()


class GuardItem(Model):
    class Meta(_Meta):
        table_name = "guards"

    guard_id = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()
    tokens = NumberAttribute(null=True)
    refilled_at = NumberAttribute(null=True)
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


# ---------------------------------------------------------------- redeem codes (issue 4)
class DistributorItem(Model):
    """A distributor; only the SHA-256 of its bearer token is stored."""

    class Meta(_Meta):
        table_name = "distributors"

    distributor_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    telegram_user_id = NumberAttribute(null=True)
    status = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class CodeItem(Model):
    """One redeem code: written once by fulfillment (BatchWriteItem), no index (one write unit a code)."""

    class Meta(_Meta):
        table_name = "codes"

    code = UnicodeAttribute(hash_key=True)             # 16 Crockford base32 symbols, no hyphens
    order_id = UnicodeAttribute()
    seq = NumberAttribute()
    distributor_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    month_count = NumberAttribute()
    max_uses = NumberAttribute()
    used_count = NumberAttribute()
    state = UnicodeAttribute()                         # ACTIVE | INACTIVE
    expires_at = NumberAttribute()                     # epoch seconds; redeemable while now < expires_at
    created_at = NumberAttribute()                     # epoch seconds


class DistributorRedeemedIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "distributor-redeemed"
        projection = AllProjection()

    distributor_id = UnicodeAttribute(hash_key=True)
    redeemed_at = UTCDateTimeAttribute(range_key=True)


class RedemptionItem(Model):
    """One per (code, user): the key is derived from both, so a second redemption cannot be written."""

    class Meta(_Meta):
        table_name = "redemptions"

    redemption_id = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute()
    user_id = NumberAttribute()
    distributor_id = UnicodeAttribute()
    code_order_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    month_count = NumberAttribute()
    status = UnicodeAttribute()                        # ACCEPTED | DELIVERED | FAILED
    redeemed_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    retail_micros = NumberAttribute()
    gift_order_id = UnicodeAttribute()
    failure_reason = UnicodeAttribute(null=True)

    by_distributor = DistributorRedeemedIndex()


class DistributorStatItem(Model):
    """Counters, added to atomically: period "total#<shard>" or "day#<YYYY-MM-DD>#<shard>". Total items
    also hold one `live#<expiry day>` counter per expiry day (not declared: names vary)."""

    class Meta(_Meta):
        table_name = "distributor-stats"

    distributor_id = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute(range_key=True)


class AuditItem(Model):
    """Every admin action, by UTC day."""

    class Meta(_Meta):
        table_name = "audit-log"

    day = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)        # sortable id: by time within the day
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    outcome = UnicodeAttribute()
    actor = UnicodeAttribute()
    target = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    details = JSONAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    OrderItem, PaymentSlotItem, PaymentItem, SettingItem, AccountItem, GuardItem, ConversationItem,
    DistributorItem, CodeItem, RedemptionItem, DistributorStatItem, AuditItem)
_TABLE_SUFFIX = {model: model.Meta.table_name for model in ALL_MODELS}
_connection: Connection | None = None


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
