"""Redeem codes (issue 4): distributors, codes, redemptions, distributor counters and the admin audit log."""
from __future__ import annotations

from pynamodb.attributes import (JSONAttribute, NumberAttribute, NumberSetAttribute, UnicodeAttribute,
                                 UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.adapters.dynamodb.models.base import _Meta


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
    # A hot code (see adapters/dynamodb/code_shards.py): its uses are counted on items `<code>#<n>`, n below
    # use_shards, each holding used_count and state; the code item keeps the numbers of those used up.
    use_shards = NumberAttribute(null=True)
    depleted_shards = NumberSetAttribute(null=True)


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
    use_shard = NumberAttribute(null=True)             # the use counter of a hot code it took

    by_distributor = DistributorRedeemedIndex()


class DistributorStatItem(Model):
    """Counters, added to atomically: period "total#<shard>" or "day#<YYYY-MM-DD>#<shard>", under the partition
    key `figures_partition(distributor id, shard)` (lowlevel.py). Total items also hold one `live#<expiry day>`
    counter per expiry day (not declared: names vary)."""

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
