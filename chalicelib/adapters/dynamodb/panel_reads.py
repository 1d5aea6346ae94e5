"""Wide reads for the operator panel's lists and figures, through indexes: orders by status or buyer
(order_lists.py), the wallets' balances from their sparse index. Distributors are read whole: an operator
registers each one, so the table stays small (docs/decisions.md, "Operator panel")."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from chalicelib.adapters.dynamodb.distributors import _distributor
from chalicelib.adapters.dynamodb.ledger import SHARDS
from chalicelib.adapters.dynamodb.models import DistributorItem, LedgerItem, PayoutItem
from chalicelib.adapters.dynamodb.order_lists import orders_created, orders_of_owner, orders_page
from chalicelib.adapters.dynamodb.orders import order_history
from chalicelib.adapters.dynamodb.payouts import payout_from_item
from chalicelib.domain.distributors import Distributor
from chalicelib.domain.orders import Order
from chalicelib.domain.ports.common import Page
from chalicelib.domain.ports.payouts import SETTLED_ON_CHAIN, Payout, PayoutState


class DynamoPanelReads:
    def orders(self, since: datetime, until: datetime, *, status: str | None = None, product_id: str | None = None,
               owner_id: str | None = None, limit: int = 100, cursor: str | None = None) -> Page:
        return orders_page(since, until, status=status, product_id=product_id, owner_id=owner_id, limit=limit,
                           cursor=cursor)

    def orders_created(self, since: datetime, until: datetime) -> Iterator[Order]:
        return orders_created(since, until)

    def orders_of_owner(self, owner_id: str, since: datetime, until: datetime) -> Iterator[Order]:
        return orders_of_owner(owner_id, since, until)

    def distributors(self) -> list[Distributor]:
        # A scan: distributors are registered one by one by operators, a bounded table read whole by this page.
        return sorted((_distributor(item) for item in DistributorItem.scan()), key=lambda d: d.created_at)

    def wallets_total(self) -> tuple[int, int]:
        """What the shop owes all wallets together (micros) and how many hold money: the wallets' balance items
        from their sparse index, shard by shard."""
        total = holders = 0
        for shard in range(SHARDS):
            for item in LedgerItem.by_wallet.query(f"wallets#{shard}"):
                total += int(item.balance or 0)
                holders += 1 if item.balance else 0
        return total, holders

    def history(self, order_id: str) -> list[dict]:
        return order_history(order_id)

    def payouts(self, state: PayoutState, since: datetime, limit: int) -> list[Payout]:
        """Closed payouts since `since`, newest first. Landed and reverted ones come from the payout-day index,
        a day at a time from today back, until `limit` are found. Cancelled ones carry no index key: a scan,
        bounded by how rarely an operator cancels a payout (only one whose transaction provably expired)."""
        if state not in SETTLED_ON_CHAIN:
            condition = (PayoutItem.state == state.value) & (PayoutItem.created_at >= since)
            payouts = [payout_from_item(item) for item in PayoutItem.scan(filter_condition=condition)]
            return sorted(payouts, key=lambda payout: payout.created_at, reverse=True)[:limit]
        found: list[Payout] = []
        day = datetime.now(timezone.utc).date()
        while day >= since.date() and len(found) < limit:
            for item in PayoutItem.by_settled_day.query(day.isoformat(), PayoutItem.landed_at >= since,
                                                        scan_index_forward=False,
                                                        filter_condition=PayoutItem.state == state.value):
                found.append(payout_from_item(item))
            day -= timedelta(days=1)
        return found[:limit]
