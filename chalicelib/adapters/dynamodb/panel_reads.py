"""Wide reads for the operator panel's lists and figures. A buyer's orders come from the owner index; other
filters scan the orders table with a filter on the creation time: an operator's occasional read, not a hot
path (docs/decisions.md, "Operator panel")."""
from __future__ import annotations

from datetime import datetime

from chalicelib.adapters.dynamodb.distributors import _distributor
from chalicelib.adapters.dynamodb.models import DistributorItem, LedgerItem, OrderItem, PayoutItem
from chalicelib.adapters.dynamodb.orders import order_from_item, order_history
from chalicelib.adapters.dynamodb.payouts import payout_from_item
from chalicelib.domain.distributors import Distributor
from chalicelib.domain.orders import Order
from chalicelib.domain.ports.payouts import Payout, PayoutState


class DynamoPanelReads:
    def orders_between(self, since: datetime, until: datetime, *, status: str | None = None,
                       product_id: str | None = None, owner_id: str | None = None, limit: int = 1000) -> list[Order]:
        condition = OrderItem.created_at.between(since, until)
        if status:
            condition &= OrderItem.status == status
        if product_id:
            condition &= OrderItem.product_id == product_id
        if owner_id:
            condition &= OrderItem.owner_id == owner_id
            items = OrderItem.by_owner.query(owner_id, OrderItem.created_at.between(since, until),
                                             filter_condition=condition, scan_index_forward=False)
        else:
            items = OrderItem.scan(filter_condition=condition)
        orders = [order_from_item(item) for item in items if item.created_at < until]
        return sorted(orders, key=lambda order: order.created_at, reverse=True)[:limit]

    def distributors(self) -> list[Distributor]:
        return sorted((_distributor(item) for item in DistributorItem.scan()), key=lambda d: d.created_at)

    def wallets_total(self) -> tuple[int, int]:
        """What the shop owes all wallets together (micros) and how many hold money: a scan of the wallets'
        balance items (one per wallet)."""
        total = holders = 0
        wallets = LedgerItem.pk.startswith("acct#wallet:") & (LedgerItem.sk == "balance")
        for item in LedgerItem.scan(filter_condition=wallets, attributes_to_get=["balance"]):
            total += int(item.balance or 0)
            holders += 1 if item.balance else 0
        return total, holders

    def history(self, order_id: str) -> list[dict]:
        return order_history(order_id)

    def payouts(self, state: PayoutState, since: datetime, limit: int) -> list[Payout]:
        """Payouts in a state that has no index (LANDED, CANCELLED) created since `since`, newest first: a scan,
        like the orders lists."""
        condition = (PayoutItem.state == state.value) & (PayoutItem.created_at >= since)
        payouts = [payout_from_item(item) for item in PayoutItem.scan(filter_condition=condition)]
        return sorted(payouts, key=lambda payout: payout.created_at, reverse=True)[:limit]
