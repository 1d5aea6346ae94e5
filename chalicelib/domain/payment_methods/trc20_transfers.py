"""Matching incoming TRC20 transfers to orders by their unique amount. Nothing here knows what the order
sells; a match ends in the one settle step."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.money import fraction_micros, from_base_units
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.payments import PaymentRecord, PaymentSlotStore
from chalicelib.domain.settlement import PaymentOutcome as Outcome
from chalicelib.domain.settlement import PaymentResult, Settlement, UnmatchedReason


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
    block_timestamp: int | None = Field(default=None, ge=0, lt=2**53)  # milliseconds; a DynamoDB number
    from_: str = Field(alias="from", min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64)
    type: str = "Transfer"
    value: str = Field(min_length=1, max_length=40)
    confirmed: bool = True

    @field_validator("value")
    @classmethod
    def _integer_string(cls, value: str) -> str:
        if not (value.isascii() and value.isdigit()):  # isdigit alone takes "²" and "٣", which int() refuses
            raise ValueError("must be a non-negative integer string in base units")
        return value

    @field_validator("type")
    @classmethod
    def _transfer_only(cls, value: str) -> str:
        if value != "Transfer":
            raise ValueError("only Transfer events are accepted")
        return value


@dataclass(frozen=True)
class PaymentRules:
    addresses: frozenset[str]
    usdt_contract: str
    suffix_decimals: int


class Trc20Transfers:
    """One transfer in, one recorded outcome out. The common case (an exact amount for a PENDING order)
    costs one read of the payment slot and one transaction that records the transfer, marks the order
    PAID and frees the owner's open-order place."""

    def __init__(self, settlement: Settlement, slots: PaymentSlotStore, clock: Clock, rules: PaymentRules) -> None:
        self._settlement = settlement
        self._slots = slots
        self._clock = clock
        self._rules = rules

    def handle(self, transfer: Transfer, raw: dict) -> PaymentResult:
        now = self._clock.now()
        record = self._record_for(transfer, raw, now)
        if record.outcome != Outcome.RECEIVED:  # rejected, unreadable, or waiting for confirmation
            return self._settlement.store(record)
        slot = self._slots.find_exact(record.to_address, record.amount_micros or 0)
        if slot is None or slot.held_until < now:
            return self._settlement.store(replace(record, outcome=Outcome.UNMATCHED,
                                                  reason=self._mismatch_reason(record, now)))
        return self._settlement.settle(record, slot.order_id, now, owner_id=slot.owner_id, kind=slot.kind)

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

    def _mismatch_reason(self, record: PaymentRecord, now: datetime) -> str:
        fraction = fraction_micros(record.amount_micros or 0, self._rules.suffix_decimals)
        live = [slot for slot in self._slots.find_by_fraction(record.to_address, fraction)
                if slot.held_until >= now]
        if not live:
            return UnmatchedReason.NO_ORDER
        nearest = min(live, key=lambda slot: abs(slot.amount_micros - (record.amount_micros or 0)))
        return UnmatchedReason.UNDERPAID if (record.amount_micros or 0) < nearest.amount_micros \
            else UnmatchedReason.OVERPAID
