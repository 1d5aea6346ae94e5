"""Payments in storage: received transfers (any method) and the unique-amount slots TRC20 holds."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterator, Protocol

from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.orders import Transition
from chalicelib.domain.ports.common import Page, WriteResult


@dataclass(frozen=True)
class PaymentSlot:
    """One order's hold on an amount's fraction (the part below one unit) at one address, from the order's
    creation to the end of its late window. The fraction is the key, so a live fraction names one order
    per address whatever its price; successive holders' windows never overlap."""

    address: str
    fraction_micros: int
    amount_micros: int
    order_id: str
    held_from: datetime
    held_until: datetime
    owner_id: str | None = None       # lets a payment free the owner's open-order place without a read
    kind: str | None = None           # lets a payment route the paid order without a read

    def held_at(self, moment: datetime) -> bool:
        return self.held_from <= moment <= self.held_until


@dataclass
class PaymentRecord:
    """Evidence of one payment, whatever the method: stored once per `transaction_id`."""

    transaction_id: str
    received_at: datetime
    from_address: str
    to_address: str
    token_contract: str
    token_symbol: str
    amount_micros: int | None
    block_timestamp_ms: int | None
    confirmed: bool
    outcome: str
    reason: str | None = None
    order_id: str | None = None
    raw: dict = field(default_factory=dict)
    method: str = "trc20"
    currency: str = "USDT"
    credited_micros: int | None = None    # what went to the wallet of the order's buyer

    @property
    def mined_at(self) -> datetime | None:
        """Chain time: when the transfer's block was made (None: not in a block as far as we were told)."""
        if self.block_timestamp_ms is None:
            return None
        return datetime.fromtimestamp(self.block_timestamp_ms / 1000, tz=timezone.utc)


class PaymentStore(Protocol):
    """A payment is written once with its outcome. The only outcome that may be replaced is
    PENDING_CONFIRMATION, by the confirmed delivery of the same transaction."""

    def record(self, record: PaymentRecord, entry: JournalEntry | None = None) -> bool:
        """Record the payment with its journal entry (one transaction); False if the transaction id already
        has an outcome that may not be replaced."""

    def record_settling(self, record: PaymentRecord, order_id: str, owner_id: str | None, transition: Transition,
                        now: datetime, entry: JournalEntry, **changes: Any) -> WriteResult:
        """In one transaction: record the payment and its journal entry, move the order along `transition`
        and, with an `owner_id`, free one of the owner's open-order places. DUPLICATE: the payment is
        recorded already; STALE: the order is in none of the transition's sources."""

    def get(self, transaction_id: str) -> PaymentRecord | None: ...

    def waiting(self, received_before: datetime, limit: int, cursor: str | None = None) -> Page:
        """PENDING_CONFIRMATION payments received before the time and not surfaced for review yet."""

    def booked_of_day(self, day: date) -> Iterator[PaymentRecord]:
        """Every payment received on the UTC day whose money is in the books (settlement.BOOKED_OUTCOMES),
        reading only that day's payments (an index: it may lag the writes by a moment)."""

    def pointing_at(self, order_id: str, limit: int) -> list[str]:
        """The ids of up to `limit` transfers recorded for the order (that paid it or were credited to its
        buyer), oldest first (an index: it may lag the writes by a moment)."""

    def surface(self, transaction_id: str, reason: str) -> bool:
        """Put a payment that is still PENDING_CONFIRMATION (and not surfaced) on the review list, keeping
        its outcome so that a late confirmation still replaces it; False when it is not waiting any more."""


class PaymentSlotStore(Protocol):
    def taken_fractions(self, address: str, low: int, high: int, now: datetime) -> set[int]:
        """Fractions from `low` to `high` (micros) that a live order holds at `address` (strongly consistent)."""

    def holder(self, address: str, fraction_micros: int) -> PaymentSlot | None:
        """The latest order to take the fraction at the address, live or not (strongly consistent)."""

    def holder_before(self, address: str, fraction_micros: int, moment: datetime) -> PaymentSlot | None:
        """The last order that took the fraction at the address at or before `moment`: the holders' history.
        May miss an order for about a second after it is created (an index); only older orders are asked for."""
