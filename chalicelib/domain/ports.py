"""Ports: what the domain needs from the outside world. Adapters implement them."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from datetime import datetime
from typing import Any, Protocol, Sequence

from chalicelib.domain.orders import Order, OrderKind, OrderStatus


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    cursor: str | None


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
    kind: OrderKind | None = None     # lets a payment route the paid order without a read


class SlotTaken(Exception):
    """The (address, amount) slot belongs to a live order."""


class OpenOrderLimitReached(Exception):
    """The owner already holds the maximum number of PENDING orders."""


class OrderRepository(Protocol):
    def get(self, order_id: str) -> Order | None: ...

    def claim_for_delivery(self, order_id: str, ready: frozenset[OrderStatus],
                           now: datetime) -> tuple[Order, Order] | None:
        """Move the order from one of `ready` to DELIVERING in one conditional write; returns the order
        before and after, or None when it is not ready (handled already, or another worker has it)."""

    def create_holding_slot(self, order: Order, slot: PaymentSlot, max_pending: int, now: datetime) -> None:
        """Write the order, take its payment slot and count it against the owner's open orders,
        all or nothing. Raises SlotTaken or OpenOrderLimitReached."""

    def create(self, order: Order) -> None:
        """Write an order that needs no payment slot (for example a gift prepaid by a code)."""

    def transition(self, order: Order, expected: frozenset[OrderStatus], target: OrderStatus,
                   now: datetime, **changes: Any) -> Order | None:
        """Move the order to `target` only if it is still in one of `expected`; None when the race is lost."""

    def list_by_owner(self, owner_id: str, limit: int, cursor: str | None) -> Page: ...

    def list_due(self, status: OrderStatus, due_before: datetime, limit: int,
                 cursor: str | None = None) -> Page: ...

    def update_progress(self, order_id: str, **changes: Any) -> None:
        """Save fields that are not a status change (fulfilment progress, message ids)."""


class PaymentSlotRepository(Protocol):
    def taken_amounts(self, address: str, base_micros: int, now: datetime) -> set[int]: ...

    def find_exact(self, address: str, amount_micros: int) -> PaymentSlot | None: ...

    def find_by_fraction(self, address: str, fraction_micros: int) -> list[PaymentSlot]: ...


@dataclass
class PaymentRecord:
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


class PaymentWrite(Enum):
    DONE = "DONE"
    ALREADY_RECORDED = "ALREADY_RECORDED"   # this transaction id has a final outcome already
    ORDER_MOVED = "ORDER_MOVED"             # the order is no longer in the expected status


class PaymentRepository(Protocol):
    """A transfer is written once with its outcome. The only outcome that may be replaced is
    PENDING_CONFIRMATION, by the confirmed delivery of the same transaction."""

    def record(self, record: PaymentRecord) -> bool:
        """False if the transaction id already has an outcome that may not be replaced."""

    def record_paying_order(self, record: PaymentRecord, order_id: str, owner_id: str | None,
                            expected: OrderStatus, target: OrderStatus, now: datetime,
                            **changes: Any) -> PaymentWrite:
        """In one transaction: record the transfer, move the order from `expected` to `target`, and, with
        an `owner_id`, free one of the owner's open-order places."""

    def get(self, transaction_id: str) -> PaymentRecord | None: ...


class SettingsRepository(Protocol):
    def get(self, setting_id: str) -> Any | None: ...

    def put(self, setting_id: str, value: Any) -> None: ...


class WorkQueue(Protocol):
    def send(self, queue: str, body: dict) -> None: ...


class Guards(Protocol):
    def claim(self, guard_id: str, ttl_seconds: int, now: datetime) -> bool:
        """Take a marker that nobody holds (or whose time ran out); False when it is held."""


class TelegramError(Exception):
    """Telegram answered with an error (`permanent` when retrying cannot help)."""

    def __init__(self, description: str, error_code: int, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.error_code = error_code
        self.retry_after = retry_after

    @property
    def permanent(self) -> bool:
        return 400 <= self.error_code < 500 and self.error_code != 429


class TelegramUnreachable(Exception):
    """No request reached Telegram (connection refused or failed before sending)."""


class TelegramOutcomeUnknown(Exception):
    """The request may have reached Telegram but no answer came back (timeout, 5xx after retries)."""


class TelegramGateway(Protocol):
    def call(self, method: str, params: dict[str, Any], *, files: dict | None = None) -> Any: ...


class Notifier(Protocol):
    """Tells people about their orders; implementations never raise for delivery problems."""

    def order_event(self, order: Order, event: str, **details: Any) -> None: ...

    def alert(self, key: str, text: str) -> None: ...
