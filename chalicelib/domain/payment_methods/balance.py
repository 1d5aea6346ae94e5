"""Paying from the wallet: the order is written PAID, with the journal entry that moves its price from the
buyer's wallet to the product's account, in one transaction that holds only while the wallet covers it."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from chalicelib.domain import ledger
from chalicelib.domain.errors import Conflict
from chalicelib.domain.ledger import InsufficientFunds, balance_payment_entry
from chalicelib.domain.money import format_amount
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.ports.ledger import LedgerStore
from chalicelib.domain.ports.orders import OrderQueue, OrderStore
from chalicelib.domain.products import OrderDraft

NAME = "balance"


class InsufficientBalance(Conflict):
    def __init__(self, balance_micros: int, needed_micros: int, currency: str) -> None:
        short = needed_micros - balance_micros
        super().__init__(f"the wallet holds {format_amount(balance_micros, 2)} {currency}, "
                         f"{format_amount(short, 2)} short of {format_amount(needed_micros, 2)}",
                         code="INSUFFICIENT_BALANCE", field="payment_method",
                         details={"balance": format_amount(balance_micros, 2),
                                  "price": format_amount(needed_micros, 2), "short": format_amount(short, 2),
                                  "currency": currency})
        self.short_micros = short


class WalletBalance:
    name = NAME

    def __init__(self, orders: OrderStore, ledger_store: LedgerStore, queue: OrderQueue,
                 settles_to: Callable[[str, str, str], str], count: Callable[[str], None]) -> None:
        self._orders = orders
        self._ledger = ledger_store
        self._queue = queue
        self._settles_to = settles_to
        self._count = count

    def open(self, draft: OrderDraft, order_id: str, now: datetime) -> Order:
        """Raises InsufficientBalance (409) when the wallet holds less than the price."""
        order = Order(order_id=order_id, kind=draft.kind, owner_id=draft.owner_id, status=OrderStatus.PAID,
                      product_id=draft.product_id, amount_micros=draft.base_micros, currency=draft.currency,
                      payment_method=NAME, network=None, created_at=now, status_changed_at=now,
                      paid_micros=draft.base_micros, paid_at=now, **draft.attributes)
        entry = balance_payment_entry(order, self._settles_to(draft.kind, draft.owner_id, draft.currency), now)
        try:
            self._orders.create_paid(order, entry)
        except InsufficientFunds as short:
            raise InsufficientBalance(self._ledger.balance(short.account), short.needed_micros,
                                      draft.currency) from None
        self._count("OrdersPaid")
        self._queue.enqueue(order_id, draft.kind)
        return order

    def instructions(self, order: Order) -> dict[str, Any]:
        return {"method": NAME, "amount": format_amount(order.amount_micros, 2), "currency": order.currency,
                "paid_from": ledger.wallet(order.owner_id, order.currency)}
