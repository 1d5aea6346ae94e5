"""On-chain payouts (issue 12): one item per payout, holding the signed transaction until it lands."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.adapters.dynamodb.models.base import _Meta


class OpenPayoutIndex(GlobalSecondaryIndex):
    """Sparse: only a SIGNED payout carries `open_state`, so the sweep reads the open ones and nothing else."""

    class Meta:
        index_name = "open-payouts"
        projection = AllProjection()

    open_state = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class SettledDayIndex(GlobalSecondaryIndex):
    """Sparse: only a payout that LANDED or REVERTED carries `settled_day` (the UTC day of its landing), so
    reconciliation reads one day's payouts and nothing else."""

    class Meta:
        index_name = "payout-day"
        projection = AllProjection()

    settled_day = UnicodeAttribute(hash_key=True)
    landed_at = UTCDateTimeAttribute(range_key=True)


class PayoutItem(Model):
    class Meta(_Meta):
        table_name = "payouts"

    payout_id = UnicodeAttribute(hash_key=True)
    action = UnicodeAttribute()
    to_address = UnicodeAttribute()
    amount_sun = NumberAttribute()
    booked_amount = NumberAttribute()
    purpose = UnicodeAttribute()
    tx_id = UnicodeAttribute()
    signed = JSONAttribute()
    expires_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    state = UnicodeAttribute()
    open_state = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    attempt = NumberAttribute()
    tx_ids = ListAttribute(of=UnicodeAttribute)
    landed_at = UTCDateTimeAttribute(null=True)
    fee_sun = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    details = JSONAttribute(null=True)
    ceiling_day = UnicodeAttribute(null=True)
    tx_owner = UnicodeAttribute(null=True)    # on `tx#<id>` items: the one payout that transaction id belongs to
    settled_day = UnicodeAttribute(null=True)

    by_open = OpenPayoutIndex()
    by_settled_day = SettledDayIndex()
