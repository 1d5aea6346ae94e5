"""Payment methods as plug-ins. A method opens a priced draft as a PENDING order and tells the buyer how to
pay it (TRC20: an address, a unique amount and a deadline); the evidence it later receives ends in the one
settle step (chalicelib/domain/settlement.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain import ledger
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.orders import Order
from chalicelib.domain.products import OrderDraft


class PaymentMethod(Protocol):
    name: str

    def open(self, draft: OrderDraft, order_id: str, now: datetime) -> Order:
        """Write the PENDING order with what this method needs to recognise its payment."""

    def instructions(self, order: Order) -> dict[str, Any]:
        """What the buyer needs to pay `order` (shown in answers about it)."""


class PaymentMethodRegistry:
    def __init__(self, methods: tuple[PaymentMethod, ...] = ()) -> None:
        self._by_name: dict[str, PaymentMethod] = {}
        for method in methods:
            self.register(method)

    def register(self, method: PaymentMethod) -> None:
        if method.name in self._by_name:
            raise ValueError(f"payment method {method.name} is registered twice")
        self._by_name[method.name] = method

    def get(self, name: str) -> PaymentMethod:
        method = self._by_name.get(name)
        if method is None:
            offered = ", ".join(sorted(self._by_name))
            raise ValidationFailed(f"payment_method must be one of: {offered}", code="PAYMENT_METHOD_UNKNOWN",
                                   field="payment_method")
        return method

    def instructions(self, order: Order) -> dict[str, Any]:
        method = self._by_name.get(order.payment_method)
        return method.instructions(order) if method is not None else {}

    # A method whose money goes back the way it came (Stars) says so with `refund_entry`, `refunded` and
    # `refund_event`; every other method's failed orders are refunded to the buyer's wallet.
    def refund_entry(self, order: Order, reason: str, now: datetime) -> JournalEntry | None:
        own = getattr(self._by_name.get(order.payment_method), "refund_entry", None)
        return own(order, reason, now) if own is not None else ledger.refund_entry(order, reason, now)

    def refunded(self, order: Order) -> None:
        """Send the money of a refund entry just written, where it leaves the shop (once: the caller is the
        writer of the order's FAILED state)."""
        own = getattr(self._by_name.get(order.payment_method), "refunded", None)
        if own is not None:
            own(order)

    def refund_event(self, order: Order) -> str:
        return getattr(self._by_name.get(order.payment_method), "refund_event", "refunded")

    def sends_back(self, order: Order) -> bool:
        """Does a refund of this order leave the shop (and so need sending), rather than land in a wallet?"""
        return hasattr(self._by_name.get(order.payment_method), "refunded")
