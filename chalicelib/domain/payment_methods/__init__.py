"""Payment methods as plug-ins. A method opens a priced draft as a PENDING order and tells the buyer how to
pay it (TRC20: an address, a unique amount and a deadline); the evidence it later receives ends in the one
settle step (chalicelib/domain/settlement.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping, Protocol

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
    """Every payment method by name. An entry is a method, or a function that builds it on the first lookup of
    its name (`built_on_lookup`): an order paid one way builds that method only."""

    def __init__(self, methods: tuple[PaymentMethod, ...] = (), *,
                 built_on_lookup: Mapping[str, Callable[[], PaymentMethod]] | None = None) -> None:
        self._builders: dict[str, Callable[[], PaymentMethod]] = {}
        self._by_name: dict[str, PaymentMethod] = {}
        for method in methods:
            self.register(method)
        for name, build in (built_on_lookup or {}).items():
            self.register_built_on_lookup(name, build)

    def register(self, method: PaymentMethod) -> None:
        self.register_built_on_lookup(method.name, lambda: method)

    def register_built_on_lookup(self, name: str, build: Callable[[], PaymentMethod]) -> None:
        if name in self._builders:
            raise ValueError(f"payment method {name} is registered twice")
        self._builders[name] = build

    def _lookup(self, name: str) -> PaymentMethod | None:
        method = self._by_name.get(name)
        if method is None and name in self._builders:
            method = self._builders[name]()
            if method.name != name:
                raise ValueError(f"the payment method registered as {name!r} is named {method.name!r}")
            self._by_name[name] = method
        return method

    def built_names(self) -> frozenset[str]:
        """The names of the methods built so far."""
        return frozenset(self._by_name)

    def get(self, name: str) -> PaymentMethod:
        method = self._lookup(name)
        if method is None:
            offered = ", ".join(sorted(self._builders))
            raise ValidationFailed(f"payment_method must be one of: {offered}", code="PAYMENT_METHOD_UNKNOWN",
                                   field="payment_method")
        return method

    def instructions(self, order: Order) -> dict[str, Any]:
        method = self._lookup(order.payment_method)
        return method.instructions(order) if method is not None else {}

    # A method whose money goes back the way it came (Stars) says so with `refund_entry`, `refunded` and
    # `refund_event`; every other method's failed orders are refunded to the buyer's wallet.
    def refund_entry(self, order: Order, reason: str, now: datetime) -> JournalEntry | None:
        own = getattr(self._lookup(order.payment_method), "refund_entry", None)
        return own(order, reason, now) if own is not None else ledger.refund_entry(order, reason, now)

    def refunded(self, order: Order) -> None:
        """Send the money of a refund entry just written, where it leaves the shop (once: the caller is the
        writer of the order's FAILED state)."""
        own = getattr(self._lookup(order.payment_method), "refunded", None)
        if own is not None:
            own(order)

    def refund_event(self, order: Order) -> str:
        return getattr(self._lookup(order.payment_method), "refund_event", "refunded")

    def sends_back(self, order: Order) -> bool:
        """Does a refund of this order leave the shop (and so need sending), rather than land in a wallet?"""
        return hasattr(self._lookup(order.payment_method), "refunded")
