"""Matching incoming TRC20 transfers to orders. Nothing here knows what the order sells."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.money import fraction_micros, from_base_units
from chalicelib.domain.orders import PAYABLE, OrderKind, OrderStatus
from chalicelib.domain.ports import (Clock, OrderRepository, PaymentRecord, PaymentRepository, PaymentSlot,
                                     PaymentSlotRepository, PaymentWrite)


class Outcome(StrEnum):
    RECEIVED = "RECEIVED"      # read from the wire, outcome not decided yet (never stored)
    MATCHED = "MATCHED"
    LATE_MATCHED = "LATE_MATCHED"
    DUPLICATE = "DUPLICATE"    # the order was already paid by another transfer: money kept for review
    PENDING_CONFIRMATION = "PENDING_CONFIRMATION"
    UNMATCHED = "UNMATCHED"
    REJECTED_TOKEN = "REJECTED_TOKEN"
    REJECTED_ADDRESS = "REJECTED_ADDRESS"


class UnmatchedReason(StrEnum):
    UNDERPAID = "UNDERPAID"
    OVERPAID = "OVERPAID"
    NO_ORDER = "NO_ORDER"



class TokenInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    symbol: str = ""
    address: str
    decimals: int = Field(ge=0, le=30)


class Transfer(BaseModel):
    """One TronGrid TRC20 transfer as the chain watcher posts it."""

    model_config = ConfigDict(extra="allow")
    transaction_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    token_info: TokenInfo
    block_timestamp: int | None = Field(default=None, ge=0)
    from_: str = Field(alias="from", min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64)
    type: str = "Transfer"
    value: str = Field(min_length=1, max_length=40)
    confirmed: bool = True

    @field_validator("value")
    @classmethod
    def _integer_string(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("must be a non-negative integer string in base units")
        return value

    @field_validator("type")
    @classmethod
    def _transfer_only(cls, value: str) -> str:
        if value != "Transfer":
            raise ValueError("only Transfer events are accepted")
        return value


@dataclass(frozen=True)
class TransferResult:
    transaction_id: str
    outcome: Outcome
    reason: str | None = None
    order_id: str | None = None
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"transaction_id": self.transaction_id, "outcome": self.outcome.value}
        if self.reason:
            result["reason"] = self.reason
        if self.order_id:
            result["order_id"] = self.order_id
        if self.replayed:
            result["replayed"] = True
        return result


@dataclass(frozen=True)
class PaymentRules:
    addresses: frozenset[str]
    usdt_contract: str
    suffix_decimals: int


class PaymentService:
    """One transfer in, one recorded outcome out. The common case (an exact amount for a PENDING order)
    costs one read of the payment slot and one transaction that records the transfer, marks the order
    PAID and frees the owner's open-order place."""

    def __init__(self, payments: PaymentRepository, slots: PaymentSlotRepository, orders: OrderRepository,
                 clock: Clock, rules: PaymentRules, on_paid: Callable[[str, OrderKind | None], None],
                 count: Callable[[str], None]) -> None:
        self._payments = payments
        self._slots = slots
        self._orders = orders
        self._clock = clock
        self._rules = rules
        self._on_paid = on_paid
        self._count = count

    def handle(self, transfer: Transfer, raw: dict) -> TransferResult:
        now = self._clock.now()
        record = self._record_for(transfer, raw, now)
        if record.outcome != Outcome.RECEIVED:  # rejected, unreadable, or waiting for confirmation
            return self._store(record)
        slot = self._slots.find_exact(record.to_address, record.amount_micros or 0)
        if slot is None or slot.held_until < now:
            return self._store(self._unmatched(record, self._mismatch_reason(record, now)))
        return self._pay(slot, record, now)

    def _record_for(self, transfer: Transfer, raw: dict, now: datetime) -> PaymentRecord:
        outcome, reason, amount = Outcome.RECEIVED, None, None
        if transfer.token_info.address != self._rules.usdt_contract:
            outcome, reason = Outcome.REJECTED_TOKEN, "token contract is not the configured USDT contract"
        elif transfer.to not in self._rules.addresses:
            outcome, reason = Outcome.REJECTED_ADDRESS, "recipient is not one of our addresses"
        else:
            try:
                amount = from_base_units(transfer.value, transfer.token_info.decimals)
            except ValueError as error:
                outcome, reason = Outcome.UNMATCHED, str(error)
        if outcome == Outcome.RECEIVED and not transfer.confirmed:
            outcome = Outcome.PENDING_CONFIRMATION
        return PaymentRecord(transaction_id=transfer.transaction_id, received_at=now,
                             from_address=transfer.from_, to_address=transfer.to,
                             token_contract=transfer.token_info.address, token_symbol=transfer.token_info.symbol,
                             amount_micros=amount, block_timestamp_ms=transfer.block_timestamp,
                             confirmed=transfer.confirmed, outcome=outcome, reason=reason, raw=raw)

    def _store(self, record: PaymentRecord) -> TransferResult:
        if not self._payments.record(record):
            return self._replay(record.transaction_id)
        if record.outcome in (Outcome.REJECTED_TOKEN, Outcome.REJECTED_ADDRESS):
            self._count("PaymentsRejected")
        elif record.outcome == Outcome.UNMATCHED:
            self._count("PaymentsUnmatched")
        return TransferResult(record.transaction_id, Outcome(record.outcome), record.reason, record.order_id)

    def _replay(self, transaction_id: str) -> TransferResult:
        stored = self._payments.get(transaction_id)
        if stored is None:  # pragma: no cover - a recorded transfer is never deleted
            raise RuntimeError(f"payment {transaction_id} vanished")
        return TransferResult(transaction_id, Outcome(stored.outcome), stored.reason, stored.order_id,
                              replayed=True)

    @staticmethod
    def _unmatched(record: PaymentRecord, reason: str, order_id: str | None = None) -> PaymentRecord:
        return replace(record, outcome=Outcome.UNMATCHED, reason=reason, order_id=order_id)

    def _mismatch_reason(self, record: PaymentRecord, now: datetime) -> str:
        fraction = fraction_micros(record.amount_micros or 0, self._rules.suffix_decimals)
        live = [slot for slot in self._slots.find_by_fraction(record.to_address, fraction)
                if slot.held_until >= now]
        if not live:
            return UnmatchedReason.NO_ORDER
        nearest = min(live, key=lambda slot: abs(slot.amount_micros - (record.amount_micros or 0)))
        return UnmatchedReason.UNDERPAID if (record.amount_micros or 0) < nearest.amount_micros \
            else UnmatchedReason.OVERPAID

    def _pay(self, slot: PaymentSlot, record: PaymentRecord, now: datetime) -> TransferResult:
        """First as if the order were PENDING (no read). If it moved, read it once and pay it late
        (EXPIRED or CANCELLED inside the monitoring window) or record a duplicate (paid already).
        A payment racing the expiry job loses to it, then pays late in the next round."""
        order_id, tx = slot.order_id, record.transaction_id
        changes = {"payment_tx": tx, "paid_micros": record.amount_micros, "paid_at": now}
        status, owner_id = OrderStatus.PENDING, slot.owner_id
        if owner_id is None:  # a slot written without its owner: the order says who holds the place
            order = self._orders.get(order_id)
            if order is not None:
                status, owner_id = order.status, order.owner_id
        for _ in range(3):
            late = status != OrderStatus.PENDING
            outcome = Outcome.LATE_MATCHED if late else Outcome.MATCHED
            attempt = self._payments.record_paying_order(
                replace(record, outcome=outcome, order_id=order_id), order_id, None if late else owner_id,
                status, OrderStatus.PAID_LATE if late else OrderStatus.PAID, now, paid_late=late, **changes)
            if attempt == PaymentWrite.ALREADY_RECORDED:
                return self._replay(tx)
            if attempt == PaymentWrite.DONE:
                self._count("OrdersPaid")
                self._on_paid(order_id, slot.kind)
                return TransferResult(tx, outcome, order_id=order_id)
            order = self._orders.get(order_id)
            if order is None:
                return self._store(self._unmatched(record, UnmatchedReason.NO_ORDER))
            if order.status not in PAYABLE:
                return self._store(replace(record, outcome=Outcome.DUPLICATE, order_id=order_id,
                                           reason="order already paid by another transfer"))
            status, owner_id = order.status, order.owner_id
        raise RuntimeError(f"order {order_id} kept changing while transfer {tx} tried to pay it")
