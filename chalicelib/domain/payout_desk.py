"""What operators do with payouts: look at the hot wallet and the open payouts, cancel a payout whose
transaction provably died unlanded (never before: it could still land), and book the stock of the inventories
(TRX and USDT put into the hot wallet, energy staked) against adjustments."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.domain import ledger
from chalicelib.domain.errors import Conflict, NotFound, Unavailable, ValidationFailed
from chalicelib.domain.orders import FLAG_FOR_REVIEW, OrderStatus
from chalicelib.domain.payout_limits import PayoutGate
from chalicelib.domain.payouts import EXPIRY_MARGIN, energy_inventory, hot_wallet
from chalicelib.domain.ports.common import Clock, Page, WriteResult
from chalicelib.domain.ports.ledger import LedgerStore
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.payouts import Payout, PayoutState, PayoutStore
from chalicelib.domain.ports.tron import AccountState, ChainOutcomeUnknown, ChainUnreachable, TronChain

@contextmanager
def _chain_answers() -> Iterator[None]:
    try:
        yield
    except (ChainUnreachable, ChainOutcomeUnknown):
        raise Unavailable("the TRON node cannot be reached; try again in a minute", code="CHAIN_UNAVAILABLE",
                          retry_after=60) from None


INVENTORIES = {"TRX": hot_wallet("TRX"), "USDT": hot_wallet("USDT"), "ENERGY": energy_inventory()}


@dataclass(frozen=True)
class HotWallet:
    account: AccountState
    paid_today: dict[str, int]
    limits: Any
    books: dict[str, int]          # the inventories' ledger balances (negative: held)


class PayoutDesk:
    def __init__(self, store: PayoutStore, chain: TronChain, gate: PayoutGate, orders: OrderStore,
                 ledger_store: LedgerStore, clock: Clock, margin: timedelta = EXPIRY_MARGIN) -> None:
        self._store = store
        self._chain = chain
        self._gate = gate
        self._orders = orders
        self._ledger = ledger_store
        self._clock = clock
        self._margin = margin

    def get(self, payout_id: str) -> Payout:
        payout = self._store.get(payout_id)
        if payout is None:
            raise NotFound(f"payout {payout_id} not found", code="PAYOUT_NOT_FOUND")
        return payout

    def open_payouts(self, state: PayoutState, limit: int, cursor: str | None) -> Page:
        return self._store.list_open(state, self._clock.now() + timedelta(days=3660), limit, cursor)

    def hot_wallet(self) -> HotWallet:
        day = self._clock.now().date().isoformat()
        with _chain_answers():
            account = self._chain.account(self._chain.shop_address)
        return HotWallet(account,
                         {asset: self._store.paid_today(asset, day) for asset in INVENTORIES},
                         self._gate.limits(), {asset: self._ledger.balance(account)
                                               for asset, account in INVENTORIES.items()})

    def cancel(self, payout_id: str, reason: str) -> Payout:
        """Only a SIGNED payout whose transaction provably expired unlanded (the same rule as replacing it);
        its order, if it has one, goes to NEEDS_REVIEW for a person to refund or redo."""
        payout = self.get(payout_id)
        if payout.state != PayoutState.SIGNED:
            raise Conflict(f"payout {payout_id} is {payout.state}", code="PAYOUT_NOT_CANCELLABLE")
        with _chain_answers():
            head = self._chain.head_time()
            landed = self._chain.lookup(payout.tx_id) is not None
        if landed or head <= payout.expires_at + self._margin:
            raise Conflict(f"payout {payout_id}'s transaction {payout.tx_id} may still land (or landed): it is "
                           f"cancellable after {payout.expires_at + self._margin:%Y-%m-%d %H:%M:%S} UTC chain time",
                           code="PAYOUT_MAY_STILL_LAND")
        if not self._store.cancel(payout, reason):
            raise Conflict(f"payout {payout_id} changed meanwhile; look again", code="PAYOUT_CHANGED")
        order = self._orders.get(payout.order_id) if payout.order_id else None
        if order is not None and order.status == OrderStatus.DELIVERING:
            self._orders.apply(order, FLAG_FOR_REVIEW, self._clock.now(), failure_reason=f"payout cancelled: {reason}")
        return self.get(payout_id)

    def stock(self, asset: str) -> int:
        """The inventory's balance in the books (negative: held)."""
        return self._ledger.balance(_inventory(asset))

    def book_stock(self, asset: str, amount: int, reason: str, request_id: str) -> WriteResult:
        """Put (positive) or take (negative) stock in the books: `amount` in sun, USDT micros or energy."""
        inventory = _inventory(asset)
        if amount == 0:
            raise ValidationFailed("amount: must not be zero", field="amount")
        entry = ledger.JournalEntry(f"stock:{request_id}", ledger.Purpose.ADJUSTMENT, asset, (
            ledger.Line(inventory, -amount), ledger.Line(ledger.adjustments(asset), amount)),
            self._clock.now(), memo=reason)
        return self._ledger.post(entry)


def _inventory(asset: str) -> str:
    if asset not in INVENTORIES:
        raise ValidationFailed(f"asset: one of {', '.join(INVENTORIES)}", field="asset")
    return INVENTORIES[asset]
