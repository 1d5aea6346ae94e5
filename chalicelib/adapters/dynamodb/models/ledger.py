"""The ledger table: one partition per account (balance, lines, reconciled closings) and one item per
journal entry, which the day index finds for reconciliation."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.adapters.dynamodb.models.base import _Meta


class EntryDayIndex(GlobalSecondaryIndex):
    """Sparse: only entries carry `day_shard` ("<YYYY-MM-DD>#<shard>"), so a day is read and nothing else."""

    class Meta:
        index_name = "entry-day"
        projection = AllProjection()

    day_shard = UnicodeAttribute(hash_key=True)
    posted_at = UTCDateTimeAttribute(range_key=True)


class WalletBalanceIndex(GlobalSecondaryIndex):
    """Sparse: only a wallet's balance item carries `wallet_shard` ("wallets#<shard>"), so what all wallets hold
    is read from the wallets alone. Sharded: every posting to any wallet writes it."""

    class Meta:
        index_name = "wallet-balances"
        projection = IncludeProjection(["balance"])

    wallet_shard = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class LedgerItem(Model):
    """pk "acct#<account>": sk "balance" (a wallet) or "balance#<shard>" (a shop account), "line#<posted at>#<entry
    id>" (one line of an entry) and "closing#<day>" (a reconciled closing balance). pk "entry#<id>", sk "entry":
    the entry itself. pk "report", sk "<day>": a reconciliation report."""

    class Meta(_Meta):
        table_name = "ledger"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    balance = NumberAttribute(null=True)
    version = NumberAttribute(null=True)
    amount_micros = NumberAttribute(null=True)
    entry_id = UnicodeAttribute(null=True)
    purpose = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    posted_at = UTCDateTimeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    transaction_id = UnicodeAttribute(null=True)
    memo = UnicodeAttribute(null=True)
    lines = JSONAttribute(null=True)
    day_shard = UnicodeAttribute(null=True)
    wallet_shard = UnicodeAttribute(null=True)
    report = JSONAttribute(null=True)

    by_day = EntryDayIndex()
    by_wallet = WalletBalanceIndex()
