"""One-off index fills for a deployed stack's tables, run from a shell with that account's credentials.

`index-wallets`: a wallet's balance item carries `wallet_shard` (the sparse `wallet-balances` index the
panel sums) from its first posting after the index was deployed; this gives it to the wallets that had no
posting since, so the panel's total counts them. Safe to run again: it writes only items still without it."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.adapters.dynamodb.ledger import wallet_shard
from chalicelib.adapters.dynamodb.models import LedgerItem, bind

WALLET_PREFIX = "acct#wallet:"


def index_wallets(prefix: str, region: str, endpoint_url: str | None = None) -> int:
    """Give every wallet balance item of the `prefix` stack its index key; the number given."""
    bind(prefix, region, endpoint_url)
    unindexed = (LedgerItem.pk.startswith(WALLET_PREFIX) & (LedgerItem.sk == "balance")
                 & LedgerItem.wallet_shard.does_not_exist())
    given = 0
    for item in LedgerItem.scan(filter_condition=unindexed, attributes_to_get=["pk", "sk"]):
        try:
            item.update(actions=[LedgerItem.wallet_shard.set(wallet_shard(item.pk.removeprefix("acct#")))],
                        condition=LedgerItem.pk.exists())
        except UpdateError:   # deleted meanwhile: nothing to index
            continue
        given += 1
    return given
