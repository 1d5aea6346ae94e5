"""Placing, reading and cancelling orders of any product, paid by any method.

`place` is the one way a buyer orders: the product validates and prices the choice, the payment method
opens the order. Nothing here knows what is sold or how it is paid.
"""
from __future__ import annotations

from typing import Any, Callable

from pydantic import ValidationError

from chalicelib.domain.errors import Conflict, NotFound, RateLimited, ValidationFailed
from chalicelib.domain.orders import CANCEL, Order, OrderStatus
from chalicelib.domain.payment_methods import PaymentMethodRegistry
from chalicelib.domain.ports.common import Clock, IdGenerator, Page
from chalicelib.domain.ports.orders import OpenOrderLimitReached, OrderStore
from chalicelib.domain.products import Buyer, OrderDraft, ProductRegistry
from chalicelib.domain.shared import plausible_id

DEFAULT_METHOD = "trc20"
OPEN_ORDER_RETRY_SECONDS = 60


class OrderingService:
    def __init__(self, orders: OrderStore, products: ProductRegistry, methods: PaymentMethodRegistry,
                 clock: Clock, ids: IdGenerator, count: Callable[[str], None]) -> None:
        self._orders = orders
        self._products = products
        self._methods = methods
        self._clock = clock
        self._ids = ids
        self._count = count

    def place(self, buyer: Buyer, product_id: str, choice: dict[str, Any],
              payment_method: str = DEFAULT_METHOD) -> Order:
        """A buyer's order for a catalog entry; `choice` holds the product's own fields (validated by it)."""
        product, offer = self._products.offer(product_id)
        try:
            chosen = product.choice.model_validate(choice)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "body"
            message = "is not a known field" if first["type"] == "extra_forbidden" else first["msg"]
            raise ValidationFailed(f"{field}: {message}", field=field) from None
        product.check_method(payment_method)
        return self.create(product.draft(buyer, offer, chosen), payment_method)

    def create(self, draft: OrderDraft, payment_method: str = DEFAULT_METHOD) -> Order:
        method = self._methods.get(payment_method)
        try:
            order = method.open(draft, self._ids.new_id(), self._clock.now())
        except OpenOrderLimitReached as limit:
            raise RateLimited(str(limit), code="TOO_MANY_OPEN_ORDERS", retry_after=OPEN_ORDER_RETRY_SECONDS,
                              details={"limit": limit.limit}) from None
        self._count("OrdersCreated")
        return order

    def get_owned(self, order_id: str, owner_id: str) -> Order:
        order = self._orders.get(order_id) if plausible_id(order_id) else None
        if order is None or order.owner_id != owner_id:
            raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
        return order

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        return self._orders.list_by_owner(owner_id, limit, cursor)

    def cancel(self, order_id: str, owner_id: str) -> Order:
        order = self.get_owned(order_id, owner_id)
        if order.status != OrderStatus.PENDING:
            raise Conflict(f"order {order_id} is {order.status} and can no longer be cancelled",
                           code="ORDER_NOT_CANCELLABLE")
        cancelled = self._orders.apply(order, CANCEL, self._clock.now())
        if cancelled is None:
            current = self._orders.get(order_id)
            raise Conflict(f"order {order_id} is {current.status if current else 'gone'} and can no longer "
                           "be cancelled", code="ORDER_NOT_CANCELLABLE")
        return cancelled
