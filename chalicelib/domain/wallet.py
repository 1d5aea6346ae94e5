"""A buyer's or a distributor's wallet: the balance, the history of every entry with what it was for, and
an operator's adjustment (a journal entry with a reason, never taking a wallet below zero)."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain import ledger
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.ledger import InsufficientFunds, adjustment_entry
from chalicelib.domain.money import format_amount
from chalicelib.domain.ports.common import Clock, Page, WriteResult
from chalicelib.domain.ports.ledger import LedgerStore
from chalicelib.domain.shared import plausible_id

CURRENCIES = ("USDT",)
MAX_HISTORY_PAGE = 100


@dataclass(frozen=True)
class Balance:
    owner_id: str
    currency: str
    balance_micros: int


class WalletService:
    def __init__(self, ledger_store: LedgerStore, clock: Clock) -> None:
        self._ledger = ledger_store
        self._clock = clock

    def balance(self, owner_id: str, currency: str = "USDT") -> Balance:
        return Balance(owner_id, currency, self._ledger.balance(ledger.wallet(owner_id, _checked(currency))))

    def balances(self, owner_id: str) -> list[Balance]:
        return [self.balance(owner_id, currency) for currency in CURRENCIES]

    def history(self, owner_id: str, limit: int, cursor: str | None = None, currency: str = "USDT") -> Page:
        """The wallet's lines (ledger.HistoryLine), newest first."""
        return self._ledger.history(ledger.wallet(owner_id, _checked(currency)), min(limit, MAX_HISTORY_PAGE), cursor)

    def adjust(self, owner_id: str, amount_micros: int, reason: str, request_id: str,
               currency: str = "USDT") -> WriteResult:
        """An operator's correction, once per `request_id` (a retry writes nothing new)."""
        if not plausible_id(request_id):
            raise ValidationFailed("request_id: 1 to 64 letters, digits, '-' or '_'", field="request_id")
        if amount_micros == 0:
            raise ValidationFailed("amount: must not be zero", field="amount")
        if not reason.strip():
            raise ValidationFailed("reason: say why the wallet is adjusted", field="reason")
        entry = adjustment_entry(request_id, owner_id, _checked(currency), amount_micros, reason.strip()[:200],
                                 self._clock.now())
        try:
            return self._ledger.post(entry)
        except InsufficientFunds as short:
            held = self._ledger.balance(short.account)
            raise Conflict(f"the wallet holds {format_amount(held, 2)} {currency}, less than "
                           f"{format_amount(short.needed_micros, 2)}", code="INSUFFICIENT_BALANCE",
                           field="amount") from None


def _checked(currency: str) -> str:
    if currency not in CURRENCIES:
        raise ValidationFailed(f"currency must be one of: {', '.join(CURRENCIES)}", field="currency")
    return currency
