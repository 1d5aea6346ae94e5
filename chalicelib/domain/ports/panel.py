"""What the operator panel reads and writes beyond the other ports: the payments review queue and wide reads
for lists and figures (orders in a time range, every distributor)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.ports.common import Page, WriteResult

if TYPE_CHECKING:   # the settings store's users (the bot's texts on every update) need neither
    from chalicelib.domain.ledger import JournalEntry
    from chalicelib.domain.orders import Order, Transition


class ReviewStore(Protocol):
    def open_reviews(self, limit: int, cursor: str | None = None) -> Page:
        """Payments waiting for an operator (PaymentRecord), oldest first."""

    def resolve(self, transaction_id: str, resolution: dict[str, Any], entry: JournalEntry | None) -> bool:
        """Take the payment off the review queue with its resolution and entry, in one transaction; False when
        it is not on the queue any more."""

    def attach(self, transaction_id: str, resolution: dict[str, Any], entry: JournalEntry, order: Order,
               transition: Transition, now: datetime, changes: dict[str, Any]) -> WriteResult:
        """In one transaction: take the payment off the queue, write the entry and move the order along
        `transition` (freeing its owner's open-order place when it leaves PENDING). DUPLICATE: the payment is
        not on the queue any more; STALE: the order is in none of the transition's sources."""

    def resolution(self, transaction_id: str) -> dict[str, Any] | None: ...


class PanelReads(Protocol):
    def orders(self, since: datetime, until: datetime, *, status: str | None = None, product_id: str | None = None,
               owner_id: str | None = None, limit: int = 100, cursor: str | None = None) -> Page:
        """A page of the orders created in [since, until) that match the filters, newest first, and the
        cursor of the next page; a page reads about what it shows, not the table."""

    def orders_created(self, since: datetime, until: datetime) -> Iterator[Order]:
        """Every order created in [since, until), oldest first, read page by page."""

    def orders_of_owner(self, owner_id: str, since: datetime, until: datetime) -> Iterator[Order]:
        """The owner's orders created in [since, until), oldest first."""

    def distributors(self) -> list[Any]: ...

    def history(self, order_id: str) -> list[dict[str, Any]]:
        """The order's status milestones ({"at", "to", "step"}), oldest first."""

    def wallets_total(self) -> tuple[int, int]:
        """What all wallets hold together (micros) and how many hold anything."""

    def payouts(self, state: Any, since: datetime, limit: int) -> list[Any]:
        """Payouts in `state` created since `since`, newest first, at most `limit`."""


class VersionedSettingsStore(Protocol):
    def versioned(self, setting_id: str) -> tuple[Any | None, str]:
        """The value (None when absent) and its version ("" when never written)."""

    def replace(self, setting_id: str, value: Any, version: str) -> bool:
        """Write only if the setting is still at `version`; False when it changed meanwhile."""
