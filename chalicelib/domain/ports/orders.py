"""Orders in storage, and the queue that carries a paid order to its fulfilment."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.orders import Order, OrderStatus, Transition
from chalicelib.domain.ports.common import Page
from chalicelib.domain.ports.payments import PaymentSlot


class SlotTaken(Exception):
    """The (address, fraction) slot belongs to a live order."""


class OpenOrderLimitReached(Exception):
    """The owner already holds the maximum number of PENDING orders (`limit`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} orders may wait for payment at once")
        self.limit = limit


class OrderStore(Protocol):
    def get(self, order_id: str) -> Order | None:
        """Strongly consistent."""

    def get_many(self, order_ids: Iterable[str]) -> dict[str, Order]:
        """The orders that exist among `order_ids`, by id; strongly consistent, read in batches."""

    def create(self, order: Order) -> None:
        """Write an order that holds nothing (a gift prepaid by a code)."""

    def create_pending(self, order: Order, max_pending: int, slot: PaymentSlot | None = None) -> None:
        """Write a PENDING order and count it against its owner's open orders, with its payment slot when
        the method holds one, all or nothing. Raises SlotTaken or OpenOrderLimitReached."""

    def create_paid(self, order: Order, entry: JournalEntry) -> None:
        """Write an order paid already, with the journal entry that paid it, all or nothing. Raises
        InsufficientFunds when the entry would take more from a wallet than it holds."""

    def apply(self, order: Order, transition: Transition, now: datetime, entry: JournalEntry | None = None,
              **changes: Any) -> Order | None:
        """Move the order along `transition` only if it is still in one of its sources; None when the
        race is lost. Leaving PENDING frees one of the owner's open-order places, and `entry` (a refund) is
        written, in the same transaction."""

    def claim(self, order_id: str, transition: Transition, now: datetime) -> tuple[Order, Order] | None:
        """`transition` without reading first (one conditional write); the order before and after, or
        None when it is in none of the sources (handled already, or another worker has it)."""

    def update_progress(self, order_id: str, **changes: Any) -> None:
        """Save fields that are not a status change (fulfilment progress, message ids)."""

    def list_by_owner(self, owner_id: str, limit: int, cursor: str | None) -> Page: ...

    def list_due(self, status: OrderStatus, due_before: datetime, limit: int,
                 cursor: str | None = None) -> Page: ...


class OrderQueue(Protocol):
    def enqueue(self, order_id: str, kind: str) -> None:
        """After the PAID write commits: hand the order to its product's worker. Never raises: a lost
        message leaves the order PAID, and the repair job queues it again."""
