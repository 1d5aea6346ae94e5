"""The dashboard's figures, from the orders of the last 30 days: orders, revenue and conversion per product
for today, 7 and 30 days, a daily series for the charts, and what waits for someone."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Iterable

from chalicelib.domain.orders import Order, OrderStatus as S

PAID_STATUSES = frozenset({S.PAID, S.PAID_LATE, S.WAITING_STARS, S.WAITING_FUNDS, S.DELIVERING, S.DELIVERED,
                           S.NEEDS_REVIEW})
WINDOWS = (("today", 1), ("7 days", 7), ("30 days", 30))
ATTENTION = (S.NEEDS_REVIEW, S.WAITING_STARS, S.WAITING_FUNDS, S.FAILED)


@dataclass
class Tally:
    orders: int = 0
    paid: int = 0
    revenue_micros: int = 0

    @property
    def conversion(self) -> float:
        return self.paid / self.orders if self.orders else 0.0

    def add(self, order: Order) -> None:
        self.orders += 1
        if order.status in PAID_STATUSES:
            self.paid += 1
            self.revenue_micros += min(order.paid_micros or 0, order.amount_micros)


@dataclass
class Figures:
    windows: dict[str, dict[str, Tally]]            # window -> product (and "all") -> tally
    days: list[str]                                 # the last 30 days, oldest first
    daily_orders: list[int]
    daily_paid: list[int]
    daily_revenue: list[float]
    pending: int
    stuck: list[Order] = field(default_factory=list)
    attention: dict[str, int] = field(default_factory=dict)


def start_of_day(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time(0), tzinfo=timezone.utc)


def figures(orders: Iterable[Order], now: datetime, stuck_after: timedelta) -> Figures:
    today = start_of_day(now)
    days = [today - timedelta(days=back) for back in range(29, -1, -1)]
    index = {day.date(): position for position, day in enumerate(days)}
    windows: dict[str, dict[str, Tally]] = {name: defaultdict(Tally) for name, _ in WINDOWS}
    daily = [Tally() for _ in days]
    pending, stuck, attention = 0, [], {status.value: 0 for status in ATTENTION}
    for order in orders:
        for name, length in WINDOWS:
            if order.created_at >= today - timedelta(days=length - 1):
                windows[name][order.product_id].add(order)
                windows[name]["all"].add(order)
        position = index.get(order.created_at.date())
        if position is not None:
            daily[position].add(order)
        if order.status == S.PENDING:
            pending += 1
        if order.status.value in attention:
            attention[order.status.value] += 1
        if order.status in (S.PAID, S.PAID_LATE, S.DELIVERING, S.NEEDS_REVIEW) \
                and now - order.status_changed_at >= stuck_after:
            stuck.append(order)
    return Figures({name: dict(tallies) for name, tallies in windows.items()}, [day.date().isoformat() for day in days],
                   [tally.orders for tally in daily], [tally.paid for tally in daily],
                   [tally.revenue_micros / 1_000_000 for tally in daily], pending,
                   sorted(stuck, key=lambda order: order.status_changed_at), attention)
