"""Payouts in storage: one record per payout (an order's TRX, a rental's delegation and its return, an
automatic swap), holding the signed transaction that is the payout until it lands or provably expires."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Iterator, Protocol

from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.orders import Order, Transition
from chalicelib.domain.ports.common import Page
from chalicelib.domain.ports.tron import PayoutAction, PayoutOrder, SignedTransaction


class PayoutState(StrEnum):
    SCHEDULED = "SCHEDULED"    # due at `created_at` (a rental's return), nothing signed yet
    SIGNED = "SIGNED"          # a signed transaction is stored: broadcast it, look it up, or replace it once expired
    LANDED = "LANDED"          # a block holds it; the ledger entry is written
    REVERTED = "REVERTED"      # a block holds it but it failed (a reverted USDT transfer): nothing reached the
                               # receiver; the TRX it burned is booked as a network fee
    CANCELLED = "CANCELLED"    # an operator ended it after its last transaction provably expired


SETTLED_ON_CHAIN = frozenset({PayoutState.LANDED, PayoutState.REVERTED})   # in a block: it can never change


@dataclass(frozen=True)
class Payout:
    payout_id: str
    action: PayoutAction
    to_address: str
    amount_sun: int                  # TRX sent, or staked sun whose energy is (un)delegated
    booked_amount: int               # what the ledger moves: sun of TRX, or energy units
    purpose: str                     # the product kind (or "AUTO_SWAP", "WITHDRAWAL") it pays for
    tx_id: str
    signed: dict[str, Any]
    expires_at: datetime
    created_at: datetime
    state: PayoutState = PayoutState.SIGNED
    order_id: str | None = None
    attempt: int = 1                 # 1 for the first transaction; one more for each that expired unlanded
    tx_ids: tuple[str, ...] = ()     # every transaction signed for it, oldest first
    landed_at: datetime | None = None
    fee_sun: int = 0
    last_error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    ceiling_day: str | None = None   # the UTC day whose payout ceiling its claim counted against, if any

    @property
    def asset(self) -> str:
        """What `booked_amount` counts: TRX (in sun), USDT (in micros) or ENERGY (in energy units)."""
        return self.instruction.asset

    @property
    def instruction(self) -> PayoutOrder:
        return PayoutOrder(self.action, self.to_address, self.amount_sun)

    @property
    def transaction(self) -> SignedTransaction:
        return SignedTransaction(self.tx_id, self.signed, self.expires_at)

    def with_transaction(self, transaction: SignedTransaction) -> Payout:
        return replace(self, tx_id=transaction.tx_id, signed=transaction.payload, expires_at=transaction.expires_at,
                       attempt=self.attempt + 1, tx_ids=(*self.tx_ids, transaction.tx_id), last_error=None)


@dataclass(frozen=True)
class OrderStep:
    """An order's transition written in the same transaction as a payout's claim or landing, and the payout
    that landing schedules (a rental's return), if any."""

    order: Order
    transition: Transition
    changes: dict[str, Any] = field(default_factory=dict)
    schedules: Payout | None = None


def scheduled_payout(payout_id: str, instruction: PayoutOrder, booked_amount: int, purpose: str, due_at: datetime,
                     order_id: str | None = None) -> Payout:
    """A payout to sign at `due_at`, not before: it holds no transaction yet."""
    return Payout(payout_id, instruction.action, instruction.to_address, instruction.amount_sun, booked_amount,
                  purpose, "", {}, due_at, due_at, state=PayoutState.SCHEDULED, order_id=order_id, attempt=0)


@dataclass(frozen=True)
class DailyCeiling:
    """At most `limit` of an asset paid out per UTC day: counted by the claim that starts each payout."""

    day: str
    limit: int


class ClaimOutcome(StrEnum):
    CLAIMED = "CLAIMED"
    TAKEN = "TAKEN"                # the payout exists already, or the order left the step's sources
    OVER_CEILING = "OVER_CEILING"  # the day's payouts would pass the ceiling: nothing written


class TransactionTaken(Exception):
    """The signed transaction's id already belongs to another payout (the same instruction signed against the
    same block): nothing was written; sign it again as another variant."""


class PayoutStore(Protocol):
    def claim(self, payout: Payout, step: OrderStep | None = None,
              ceiling: DailyCeiling | None = None) -> ClaimOutcome:
        """Write a new payout with its signed transaction and, in the same transaction, the order's step, the
        day's payout total (conditional on the ceiling) and the transaction id's claim (`tx#<id>`, so one id is
        one payout's); nothing at all unless CLAIMED. Raises TransactionTaken."""

    def get(self, payout_id: str) -> Payout | None:
        """Strongly consistent."""

    def paid_today(self, asset: str, day: str) -> int:
        """What the claims of the UTC day counted against its ceiling."""

    def replace_transaction(self, payout: Payout, transaction: SignedTransaction) -> Payout | None:
        """Store a new transaction only while the payout still holds `payout.tx_id` and is SIGNED; None when
        another worker replaced or landed it first. Raises TransactionTaken."""

    def land(self, payout: Payout, fee_sun: int, landed_at: datetime, entries: tuple[JournalEntry, ...],
             step: OrderStep | None = None) -> bool:
        """SIGNED -> LANDED for `payout.tx_id`, its journal entries and the order's step in one transaction;
        False when it landed already (nothing written twice)."""

    def revert(self, payout: Payout, reason: str, fee_sun: int, reverted_at: datetime,
               entries: tuple[JournalEntry, ...], step: OrderStep | None = None) -> bool:
        """SIGNED -> REVERTED for `payout.tx_id` (the chain's `reason` kept as its last error), with its fee's
        journal entries, the order's step and its amount given back to the day's ceiling, in one transaction;
        False when it was settled already."""

    def note_error(self, payout: Payout, error: str) -> None:
        """Keep the last refusal for the operator (not a state change)."""

    def cancel(self, payout: Payout, reason: str) -> bool:
        """SIGNED -> CANCELLED for `payout.tx_id`: an operator's decision after its provable expiry. Its amount
        goes back to the ceiling of the day its claim counted, in the same transaction (so once)."""

    def start_scheduled(self, payout: Payout, transaction: SignedTransaction) -> Payout | None:
        """SCHEDULED -> SIGNED with its first transaction; None when another run started it first. Raises
        TransactionTaken."""

    def list_open(self, state: PayoutState, due_before: datetime, limit: int, cursor: str | None = None) -> Page:
        """SIGNED (or SCHEDULED) payouts created (or due) before `due_before`, oldest first."""

    def settled_of_day(self, day: date) -> Iterator[Payout]:
        """Every payout that LANDED or REVERTED on the UTC day (by `landed_at`), reading only that day's (an
        index: it may lag the writes by a moment)."""
