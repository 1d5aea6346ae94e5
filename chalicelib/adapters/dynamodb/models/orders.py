"""Orders, the payment slots that tell their amounts apart, and the payments received for them."""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute,
                                 UnicodeAttribute, UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.adapters.dynamodb.models.base import _Meta


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


class StatusCreatedIndex(GlobalSecondaryIndex):
    """Every order under its status, by creation: the panel's lists (adapters/dynamodb/order_lists.py)."""

    class Meta:
        index_name = "status-created"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class PaySlotIndex(GlobalSecondaryIndex):
    """Every order that held an amount's fraction at an address, by creation: the history that names the
    order a late-posted transfer was mined for. The projected attributes never change after creation."""

    class Meta:
        index_name = "pay-slot"
        projection = IncludeProjection(["amount_micros", "payable_until", "owner_id", "kind"])

    pay_slot = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OrderItem(Model):
    class Meta(_Meta):
        table_name = "orders"

    order_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    status = UnicodeAttribute()
    product_id = UnicodeAttribute()
    amount_micros = NumberAttribute()
    surcharge_micros = NumberAttribute(null=True)
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
    history = ListAttribute(null=True)                 # milestones: {"at", "to", "step"} (orders.HISTORY_STEPS)
    pay_slot = UnicodeAttribute(null=True)             # "<address>#<fraction micros>": orders holding a slot

    by_owner = OwnerCreatedIndex()
    by_open_due = OpenDueIndex()
    by_pay_slot = PaySlotIndex()
    by_status = StatusCreatedIndex()


class AmountSlotItem(Model):
    """The latest holder of an amount's fraction at an address (PaymentSlot). Taken on condition that the
    previous holder's late window has closed; the history is the orders' pay-slot index."""

    class Meta(_Meta):
        table_name = "amount-slots"

    address = UnicodeAttribute(hash_key=True)
    fraction_micros = NumberAttribute(range_key=True)  # the amount below one unit, in micros
    amount_micros = NumberAttribute()
    order_id = UnicodeAttribute()
    owner_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    held_from = NumberAttribute()                      # epoch milliseconds: the order's creation
    held_until = NumberAttribute()                     # epoch milliseconds: the end of its late window
    expires_at = NumberAttribute()                     # TTL (epoch seconds), a day after held_until


class ReviewReceivedIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "review-received"
        projection = AllProjection()

    review_state = UnicodeAttribute(hash_key=True)
    received_at = UTCDateTimeAttribute(range_key=True)


class OrderReceivedIndex(GlobalSecondaryIndex):
    """Sparse: the transfers that point at an order (those with an order_id), by arrival."""

    class Meta:
        index_name = "order-received"
        projection = KeysOnlyProjection()

    order_id = UnicodeAttribute(hash_key=True)
    received_at = UTCDateTimeAttribute(range_key=True)


class PaymentDayIndex(GlobalSecondaryIndex):
    """Sparse: payments that moved money in our books carry `day_shard` ("<YYYY-MM-DD>#<shard>"), so the
    reconciliation reads one day's transfers and nothing else."""

    class Meta:
        index_name = "payment-day"
        projection = AllProjection()

    day_shard = UnicodeAttribute(hash_key=True)
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
    credited_micros = NumberAttribute(null=True)       # what went to the wallet of the order's buyer
    resolution = JSONAttribute(null=True)              # how an operator resolved it (panel)
    day_shard = UnicodeAttribute(null=True)

    by_review = ReviewReceivedIndex()
    by_day = PaymentDayIndex()
    by_order = OrderReceivedIndex()
