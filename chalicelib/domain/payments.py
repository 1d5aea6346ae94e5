"""Matching incoming TRC20 transfers to orders. Nothing here knows what the order sells."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.money import fraction_micros, from_base_units
from chalicelib.domain.orders import PAYABLE, Order, OrderStatus
from chalicelib.domain.ports import Clock, OrderRepository, PaymentRecord, PaymentRepository, PaymentSlotRepository


class Outcome(StrEnum):
    RECEIVED = "RECEIVED"      # stored, not yet acted on (a crash here is resumed by the next delivery)
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


SETTLEABLE = frozenset({Outcome.RECEIVED, Outcome.PENDING_CONFIRMATION})


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
    def __init__(self, payments: PaymentRepository, slots: PaymentSlotRepository, orders: OrderRepository,
                 clock: Clock, rules: PaymentRules, on_paid: Callable[[Order], None],
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
        if not self._payments.insert(record):
            stored = self._payments.get(transfer.transaction_id)
            if stored is None:  # pragma: no cover - a record never disappears
                raise RuntimeError("payment record vanished")
            if stored.outcome not in SETTLEABLE or (stored.outcome == Outcome.PENDING_CONFIRMATION
                                                    and not transfer.confirmed):
                return TransferResult(transfer.transaction_id, Outcome(stored.outcome), stored.reason,
                                      stored.order_id, replayed=True)
            record = stored
            record.confirmed = record.confirmed or transfer.confirmed
        if record.outcome in (Outcome.REJECTED_TOKEN, Outcome.REJECTED_ADDRESS):
            self._count("PaymentsRejected")
            return TransferResult(record.transaction_id, Outcome(record.outcome), record.reason)
        if not record.confirmed:
            return TransferResult(record.transaction_id, Outcome.PENDING_CONFIRMATION)
        result = self._match(record, now)
        self._payments.settle(record.transaction_id, SETTLEABLE, result.outcome, result.reason,
                              result.order_id, confirmed=True)
        if result.outcome == Outcome.UNMATCHED:
            self._count("PaymentsUnmatched")
        return result

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

    def _match(self, record: PaymentRecord, now: datetime) -> TransferResult:
        tx = record.transaction_id
        if record.amount_micros is None:
            return TransferResult(tx, Outcome.UNMATCHED, record.reason or UnmatchedReason.NO_ORDER)
        slot = self._slots.find_exact(record.to_address, record.amount_micros)
        if slot is None or slot.held_until < now:
            return TransferResult(tx, Outcome.UNMATCHED, self._mismatch_reason(record, now))
        return self._pay_order(slot.order_id, record, now)

    def _mismatch_reason(self, record: PaymentRecord, now: datetime) -> str:
        fraction = fraction_micros(record.amount_micros or 0, self._rules.suffix_decimals)
        live = [slot for slot in self._slots.find_by_fraction(record.to_address, fraction)
                if slot.held_until >= now]
        if not live:
            return UnmatchedReason.NO_ORDER
        nearest = min(live, key=lambda slot: abs(slot.amount_micros - (record.amount_micros or 0)))
        return UnmatchedReason.UNDERPAID if (record.amount_micros or 0) < nearest.amount_micros \
            else UnmatchedReason.OVERPAID

    def _pay_order(self, order_id: str, record: PaymentRecord, now: datetime) -> TransferResult:
        tx = record.transaction_id
        payment = {"payment_tx": tx, "paid_micros": record.amount_micros, "paid_at": now}
        # Two rounds: a payment racing the expiry job finds the order PENDING, loses, then finds it EXPIRED.
        for _ in range(2):
            order = self._orders.get(order_id)
            if order is None:
                return TransferResult(tx, Outcome.UNMATCHED, UnmatchedReason.NO_ORDER)
            if order.payment_tx == tx:
                self._on_paid(order)  # a resumed delivery of this transfer: enqueue again, harmlessly
                outcome = Outcome.LATE_MATCHED if order.paid_late else Outcome.MATCHED
                return TransferResult(tx, outcome, order_id=order_id)
            if order.status not in PAYABLE:
                return TransferResult(tx, Outcome.DUPLICATE, "order already paid by another transfer", order_id)
            target = OrderStatus.PAID if order.status == OrderStatus.PENDING else OrderStatus.PAID_LATE
            paid = self._orders.transition(order, frozenset({order.status}), target, now,
                                           paid_late=target == OrderStatus.PAID_LATE, **payment)
            if paid is not None:
                self._count("OrdersPaid")
                self._on_paid(paid)
                outcome = Outcome.MATCHED if target == OrderStatus.PAID else Outcome.LATE_MATCHED
                return TransferResult(tx, outcome, order_id=order_id)
        return TransferResult(tx, Outcome.DUPLICATE, "order already paid by another transfer", order_id)
