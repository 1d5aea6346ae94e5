"""Matching incoming TRC20 transfers to orders. Chain time decides: a transfer pays the order that held its
amount's fraction at the address when the transfer was mined, if that order asked for exactly its amount.
Nothing here knows what the order sells; a match ends in the one settle step."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Callable

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator

from chalicelib.domain.money import ASCII_DIGITS, MICROS_PER_UNIT, USDT_DECIMALS, from_base_units
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.payments import PaymentRecord, PaymentSlot, PaymentSlotStore
from chalicelib.domain.settlement import PaymentOutcome as Outcome
from chalicelib.domain.settlement import OrderRef, PaymentResult, Settlement, UnmatchedReason

TRON_TRANSACTION_ID = r"^[0-9A-Fa-f]{64}$"
# Block times are epoch milliseconds: anything before mid-2017 is a value in seconds, or no time at all.
EARLIEST_BLOCK_MS = 1_500_000_000_000
LATEST_BLOCK_MS = 10_000_000_000_000


class TokenInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    symbol: str = ""
    address: str
    decimals: int = Field(ge=0, le=30)


class Transfer(BaseModel):
    """One TronGrid TRC20 transfer as the chain watcher posts it, read canonically: one spelling per
    transaction id (64 hex digits, stored in lower case), an amount of ASCII digits, a block time in ms."""

    model_config = ConfigDict(extra="allow")
    transaction_id: str = Field(pattern=TRON_TRANSACTION_ID)
    token_info: TokenInfo
    block_timestamp: Annotated[int, Strict()] | None = Field(default=None, ge=EARLIEST_BLOCK_MS,
                                                            lt=LATEST_BLOCK_MS)
    from_: str = Field(alias="from", min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64)
    type: str = "Transfer"
    value: str = Field(min_length=1, max_length=30)
    confirmed: bool = True

    @field_validator("transaction_id")
    @classmethod
    def _lower_case(cls, value: str) -> str:
        return value.lower()

    @field_validator("value")
    @classmethod
    def _ascii_digits(cls, value: str) -> str:
        if not ASCII_DIGITS.fullmatch(value):
            raise ValueError("must be a non-negative integer string of ASCII digits, in base units")
        return value

    @field_validator("type")
    @classmethod
    def _transfer_only(cls, value: str) -> str:
        if value != "Transfer":
            raise ValueError("only Transfer events are accepted")
        return value


@dataclass(frozen=True)
class PaymentRules:
    addresses: Callable[[], frozenset[str]]   # every address a transfer to is ours, live or retired
    usdt_contract: str
    suffix_decimals: int
    token_decimals: int = USDT_DECIMALS      # pinned: USDT-TRC20 has 6, whatever a payload says

    @property
    def suffix_step(self) -> int:
        return MICROS_PER_UNIT // 10 ** self.suffix_decimals


class Trc20Transfers:
    """One transfer in, one recorded outcome out. The common case (an exact amount for a PENDING order,
    mined in its window) costs one read of the amount's slot and one transaction that records the
    transfer, marks the order PAID and frees the owner's open-order place."""

    def __init__(self, settlement: Settlement, slots: PaymentSlotStore, clock: Clock, rules: PaymentRules) -> None:
        self._settlement = settlement
        self._slots = slots
        self._clock = clock
        self._rules = rules

    def handle(self, transfer: Transfer, raw: dict) -> PaymentResult:
        now = self._clock.now()
        record = self._record_for(transfer, raw, now)
        if record.outcome != Outcome.RECEIVED:  # rejected, or not known to be mined and confirmed yet
            return self._settlement.store(record)
        holder, current = self._holder(record)
        if holder is None or not record.amount_micros:
            return self._settlement.suspend(record, UnmatchedReason.NO_ORDER, now)
        # An earlier holder has surely left PENDING, and a slot without hints is read: never guess.
        hint = OrderRef(holder.order_id, holder.owner_id, holder.kind, holder.amount_micros) \
            if current and holder.owner_id and holder.kind else None
        if not holder.held_at(record.mined_at):  # type: ignore[arg-type] - a holder means a block time
            return self._settlement.credit_late(record, holder.order_id, now, hint=hint)
        return self._settlement.settle(record, holder.order_id, now, hint=hint)

    def record_of(self, transfer: Transfer, raw: dict) -> PaymentRecord:
        """The transfer as these rules read it (token, address, confirmation), not recorded yet."""
        return self._record_for(transfer, raw, self._clock.now())

    def _holder(self, record: PaymentRecord) -> tuple[PaymentSlot | None, bool]:
        """The order that last took the transfer's fraction at the address before it was mined (its window
        may have closed by then: a payment after the late window), and whether it is the fraction's latest
        holder. Only an amount on the suffix grid names an order: 15.3469 could be 15.347 short of a fee as
        well as 15.346 over."""
        fraction = (record.amount_micros or 0) % MICROS_PER_UNIT
        mined = record.mined_at
        if mined is None or fraction == 0 or fraction % self._rules.suffix_step:
            return None, False
        latest = self._slots.holder(record.to_address, fraction)
        if latest is not None and latest.held_from <= mined:
            return latest, True
        return self._slots.holder_before(record.to_address, fraction, mined), False

    def _record_for(self, transfer: Transfer, raw: dict, now) -> PaymentRecord:
        rules, token = self._rules, transfer.token_info
        ours = token.address == rules.usdt_contract
        # What moved, read with the token's own decimals; a foreign token's are only its word.
        amount = from_base_units(transfer.value, rules.token_decimals if ours else token.decimals, truncate=True)
        outcome, reason = Outcome.RECEIVED, None
        if not ours:
            outcome, reason = Outcome.REJECTED_TOKEN, "token contract is not the configured USDT contract"
        elif token.decimals != rules.token_decimals:
            outcome, reason = Outcome.REJECTED_TOKEN, (f"token_info.decimals is {token.decimals}, but USDT-TRC20 "
                                                       f"has {rules.token_decimals}: the payload is not trusted")
        elif transfer.to not in rules.addresses():
            outcome, reason = Outcome.REJECTED_ADDRESS, "recipient is not one of our addresses"
        elif transfer.block_timestamp is None:
            outcome, reason = Outcome.PENDING_CONFIRMATION, "no block time yet"
        elif not transfer.confirmed:
            outcome = Outcome.PENDING_CONFIRMATION
        return PaymentRecord(transaction_id=transfer.transaction_id, received_at=now,
                             from_address=transfer.from_, to_address=transfer.to,
                             token_contract=token.address, token_symbol=token.symbol,
                             amount_micros=amount, block_timestamp_ms=transfer.block_timestamp,
                             confirmed=transfer.confirmed, outcome=outcome, reason=reason, raw=raw)
