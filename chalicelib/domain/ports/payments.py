"""Payments in storage: received transfers (any method) and the unique-amount slots TRC20 holds."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.orders import Transition
from chalicelib.domain.ports.common import WriteResult


@dataclass(frozen=True)
class PaymentSlot:
    """An (address, amount) pair held for one order until `held_until`."""

    address: str
    amount_micros: int
    base_micros: int
    suffix_micros: int
    order_id: str
    held_until: datetime
    owner_id: str | None = None       # lets a payment free the owner's open-order place without a read
    kind: str | None = None           # lets a payment route the paid order without a read


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


class PaymentStore(Protocol):
    """A payment is written once with its outcome. The only outcome that may be replaced is
    PENDING_CONFIRMATION, by the confirmed delivery of the same transaction."""

    def record(self, record: PaymentRecord) -> bool:
        """False if the transaction id already has an outcome that may not be replaced."""

    def record_settling(self, record: PaymentRecord, order_id: str, owner_id: str | None, transition: Transition,
                        now: datetime, **changes: Any) -> WriteResult:
        """In one transaction: record the payment, move the order along `transition` and, with an
        `owner_id`, free one of the owner's open-order places. DUPLICATE: the payment is recorded already;
        STALE: the order is in none of the transition's sources."""

    def get(self, transaction_id: str) -> PaymentRecord | None: ...


class PaymentSlotStore(Protocol):
    def taken_amounts(self, address: str, base_micros: int, now: datetime) -> set[int]: ...

    def find_exact(self, address: str, amount_micros: int) -> PaymentSlot | None: ...

    def find_by_fraction(self, address: str, fraction_micros: int) -> list[PaymentSlot]: ...
