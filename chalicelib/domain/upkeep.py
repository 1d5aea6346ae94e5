"""The scheduled jobs: expire unpaid orders, and repair orders that stopped moving (the repair run also puts
transfers that never confirmed on the review list)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import EXPIRE, FLAG_FOR_REVIEW, OrderStatus
from chalicelib.domain.payment_review import PaymentReview
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.orders import OrderQueue, OrderStore
from chalicelib.domain.products import ProductRegistry

S = OrderStatus
PAGE_SIZE = 100


@dataclass(frozen=True)
class RepairPolicy:
    paid_stuck_after: timedelta
    delivering_stuck_after: timedelta


@dataclass
class RunReport:
    examined: int = 0
    changed: int = 0
    requeued: int = 0
    surfaced: int = 0    # payments put on the review list
    order_ids: list[str] = field(default_factory=list)  # the orders this run changed or re-enqueued

    def summary(self) -> dict[str, int]:
        return {"examined": self.examined, "changed": self.changed, "requeued": self.requeued,
                "surfaced": self.surfaced}


class UpkeepService:
    def __init__(self, orders: OrderStore, products: ProductRegistry, queue: OrderQueue, notices: Notices,
                 clock: Clock, policy: RepairPolicy, count: Callable[[str], None],
                 payment_review: PaymentReview | None = None) -> None:
        self._orders = orders
        self._payment_review = payment_review
        self._products = products
        self._queue = queue
        self._notices = notices
        self._clock = clock
        self._policy = policy
        self._count = count

    def _due(self, status: OrderStatus, due_before):
        cursor = None
        while True:
            page = self._orders.list_due(status, due_before, PAGE_SIZE, cursor)
            yield from page.items
            if page.cursor is None:
                return
            cursor = page.cursor

    def expire_orders(self) -> RunReport:
        now = self._clock.now()
        report = RunReport()
        for order in self._due(S.PENDING, now):
            report.examined += 1
            expired = self._orders.apply(order, EXPIRE, now)
            if expired is not None:
                report.changed += 1
                report.order_ids.append(order.order_id)
                self._count("OrdersExpired")
                self._notices.order_event(expired, "expired", self._products.by_kind(order.kind).notices)
        return report

    def repair_orders(self) -> RunReport:
        now = self._clock.now()
        report = RunReport()
        for status in (S.PAID, S.PAID_LATE):
            for order in self._due(status, now - self._policy.paid_stuck_after):
                report.examined += 1
                report.requeued += 1
                report.order_ids.append(order.order_id)
                self._queue.enqueue(order.order_id, order.kind)
        for order in (*self._due(S.WAITING_STARS, now), *self._due(S.WAITING_FUNDS, now)):
            report.examined += 1
            report.requeued += 1
            report.order_ids.append(order.order_id)
            self._queue.enqueue(order.order_id, order.kind)
        for order in self._due(S.DELIVERING, now - self._policy.delivering_stuck_after):
            report.examined += 1
            if self._products.by_kind(order.kind).resumable:
                report.requeued += 1
                report.order_ids.append(order.order_id)
                self._queue.enqueue(order.order_id, order.kind)
                continue
            flagged = self._orders.apply(order, FLAG_FOR_REVIEW, now, failure_reason="delivery stuck: outcome unknown")
            if flagged is not None:
                report.changed += 1
                report.order_ids.append(order.order_id)
                self._count("DeliveryNeedsReview")
                self._notices.alert(f"needs-review:{order.order_id}",
                                     f"Order {order.order_id} was stuck delivering and needs review.")
        if self._payment_review is not None:
            report.surfaced = len(self._payment_review.surface_unconfirmed())
        return report
