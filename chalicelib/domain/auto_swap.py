"""The automatic exchange address: USDT sent there between the posted minimum and maximum comes back to the
sender as TRX at the posted rate (with its spread), once per transfer; anything else goes to review.

One transfer, one swap: the payout "swap:<transaction id>" is claimed first (its conditional write also
counts the day's ceiling; payouts.py), then the payment is recorded (outcome SWAPPED, its entry crediting the
swap revenue) by its own conditional write. A replayed webhook finds both and does nothing new; one replayed
after a crash between the two books the payment then (the payout, already claimed, is not signed again).
The payout's record keeps the rate it was quoted at."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from chalicelib.domain import ledger
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.money import format_amount
from chalicelib.domain.payout_limits import PayoutGate
from chalicelib.domain.payouts import PayoutService
from chalicelib.domain.ports.payments import PaymentRecord, PaymentStore
from chalicelib.domain.ports.payouts import ClaimOutcome, Payout
from chalicelib.domain.ports.tron import PayoutAction, PayoutOrder
from chalicelib.domain.products.trx_exchange import ExchangeTerms
from chalicelib.domain.settlement import PaymentOutcome, PaymentResult, Settlement
from chalicelib.domain.tron import is_valid_tron_address

PURPOSE = "AUTO_SWAP"
OUT_OF_BOUNDS = "SWAP_OUT_OF_BOUNDS"
HELD = "SWAP_HELD"


def swap_payout_id(transaction_id: str) -> str:
    return f"swap:{transaction_id}"


def swap_entry(record: PaymentRecord, now: datetime) -> JournalEntry:
    amount = record.amount_micros or 0
    return JournalEntry(ledger.payment_entry_id(record.transaction_id), ledger.Purpose.SWAP, record.currency, (
        ledger.Line(ledger.clearing(record.to_address, record.currency), -amount),
        ledger.Line(ledger.revenue(PURPOSE, record.currency), amount)), now,
        transaction_id=record.transaction_id, memo="automatic swap")


class AutoSwap:
    def __init__(self, address: str, read: Callable[[Any, dict], PaymentRecord], terms: Callable[[], ExchangeTerms],
                 payments: PaymentStore, settlement: Settlement, payouts: PayoutService, gate: PayoutGate,
                 now: Callable[[], datetime], count: Callable[[str], None]) -> None:
        self.address = address
        self._read = read                  # the TRC20 rules for this address: token, confirmation
        self._terms = terms
        self._payments = payments
        self._settlement = settlement
        self._payouts = payouts
        self._gate = gate
        self._now = now
        self._count = count

    def handle(self, transfer: Any, raw: dict) -> PaymentResult:
        record = self._read(transfer, raw)
        if record.outcome != PaymentOutcome.RECEIVED:
            return self._settlement.store(record)
        now = self._now()
        terms = self._terms()
        amount = record.amount_micros or 0
        if not terms.swap_min_micros <= amount <= terms.swap_max_micros or \
                not is_valid_tron_address(record.from_address):
            reason = f"{OUT_OF_BOUNDS}: {format_amount(amount, 2)} USDT, the address swaps " \
                     f"{format_amount(terms.swap_min_micros, 2)} to {format_amount(terms.swap_max_micros, 2)}"
            return self._settlement.suspend(record, reason, now)
        sun = terms.sun_for(amount)
        payout = self._payouts.get(swap_payout_id(record.transaction_id))
        if payout is None:
            payout, held = self._claim(record, terms, sun)
            if payout is None:
                self._gate.stopped("swap", f"automatic swap {record.transaction_id}: {held}")
                return self._settlement.suspend(record, f"{HELD}: {held}", now)
        swapped = replace(record, outcome=PaymentOutcome.SWAPPED, reason=f"{format_amount(payout.amount_sun)} TRX")
        if self._payments.record(swapped, swap_entry(swapped, now)):
            self._count("PaymentsSwapped")
            result = PaymentResult(record.transaction_id, PaymentOutcome.SWAPPED, swapped.reason)
        else:
            result = self._settlement.replay(record.transaction_id)
        self._payouts.drive(payout)
        return result

    def _claim(self, record: PaymentRecord, terms: ExchangeTerms, sun: int) -> tuple[Payout | None, str]:
        """The swap's payout, claimed before the payment is booked so that the day's ceiling is counted by
        the same write; (None, why) when a limit holds it back."""
        instruction = PayoutOrder(PayoutAction.TRANSFER, record.from_address, sun)
        refusal = self._gate.refusal(instruction)
        if refusal is not None:
            return None, refusal
        outcome, payout = self._payouts.open(
            swap_payout_id(record.transaction_id), instruction, sun, PURPOSE, ceiling=self._gate.ceiling("TRX"),
            details={"rate_micros": terms.rate_micros, "spread_percent": str(terms.spread_percent),
                     "usdt_micros": record.amount_micros, "from": record.from_address})
        if outcome == ClaimOutcome.OVER_CEILING or payout is None:
            return None, "the day's TRX payout ceiling is reached"
        return payout, ""
