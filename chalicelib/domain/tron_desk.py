"""What the panel's TRON page shows and does: the hot wallet against its limits, the day's payout ceilings,
payouts by state, those waiting for a person, the energy lent out and when it comes back; and the operators'
two acts the JSON admin routes offer too (cancel a payout whose transaction provably died, book stock), each
through the payout desk and audited with the operator's name, the reason, and the thing before and after."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import Unavailable, ValidationFailed
from chalicelib.domain.money import to_micros
from chalicelib.domain.payout_desk import HotWallet, PayoutDesk
from chalicelib.domain.payout_limits import TOKEN_FEE_RESERVE_SUN, Limits
from chalicelib.domain.payouts import EXPIRY_MARGIN
from chalicelib.domain.ports.common import Clock, WriteResult
from chalicelib.domain.ports.payouts import Payout, PayoutState
from chalicelib.domain.ports.tron import PayoutAction

OPEN_STATES = (PayoutState.SIGNED, PayoutState.SCHEDULED)
LISTED = 200
CLOSED_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class Ceiling:
    asset: str
    used: int
    limit: int

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass(frozen=True)
class WalletState:
    wallet: HotWallet
    ceilings: tuple[Ceiling, ...]
    trx_state: str          # "ok", "low" (a largest payout would dip into the reserve) or "below reserve"
    usdt_state: str         # "ok", "low" (less than a largest payout) or "no fee" (too little TRX to send USDT)
    delegated_energy: int   # energy lent out now (the rentals whose return is scheduled)


def trx_state(balance_sun: int, limits: Limits) -> str:
    if balance_sun <= limits.reserve_sun:
        return "below reserve"
    return "low" if balance_sun - limits.reserve_sun < limits.per_payout_max_sun else "ok"


def usdt_state(usdt_micros: int, balance_sun: int, limits: Limits) -> str:
    if balance_sun < TOKEN_FEE_RESERVE_SUN + limits.reserve_sun:
        return "no fee"
    return "low" if usdt_micros < limits.per_payout_max_usdt else "ok"


def needs_review(payout: Payout, now: datetime) -> bool:
    """A signed payout a person should look at: the node refused it, or its transaction expired unlanded."""
    return payout.state == PayoutState.SIGNED and (
        payout.last_error is not None or now > payout.expires_at + EXPIRY_MARGIN)


class TronDesk:
    def __init__(self, payouts: PayoutDesk, closed: Callable[[PayoutState, datetime, int], list[Payout]],
                 clock: Clock, audit: Any) -> None:
        self._payouts = payouts
        self._closed = closed          # LANDED or CANCELLED payouts created since a time, newest first
        self._clock = clock
        self._audit = audit

    def wallet(self) -> WalletState | None:
        """None when the TRON node cannot be reached: the page shows the rest."""
        try:
            wallet = self._payouts.hot_wallet()
        except Unavailable:
            return None
        limits: Limits = wallet.limits
        daily = {"TRX": limits.daily_max_sun, "USDT": limits.daily_max_usdt, "ENERGY": limits.daily_max_energy}
        ceilings = tuple(Ceiling(asset, wallet.paid_today.get(asset, 0), limit) for asset, limit in daily.items())
        account = wallet.account
        return WalletState(wallet, ceilings, trx_state(account.balance_sun, limits),
                           usdt_state(account.usdt_micros, account.balance_sun, limits),
                           sum(payout.booked_amount for payout in self.delegations()))

    def payouts(self, state: PayoutState) -> list[Payout]:
        """Open payouts oldest first (from the open index), landed or cancelled ones of the last 30 days newest
        first."""
        if state in OPEN_STATES:
            return list(self._payouts.open_payouts(state, LISTED, None).items)
        return self._closed(state, self._clock.now() - CLOSED_LOOKBACK, LISTED)

    def for_review(self) -> list[Payout]:
        now = self._clock.now()
        return [payout for payout in self.payouts(PayoutState.SIGNED) if needs_review(payout, now)]

    def delegations(self) -> list[Payout]:
        """Energy lent out now: each rental's return, SCHEDULED for when the rental ends (soonest first)."""
        return [payout for payout in self.payouts(PayoutState.SCHEDULED) if payout.action == PayoutAction.UNDELEGATE]

    def cancel(self, actor: AdminActor, payout_id: str, reason: str) -> Payout:
        before = self._payouts.get(payout_id)
        after = self._payouts.cancel(payout_id, reason)
        self._audit.record_action(actor, "payout.cancel", payout_id, reason=reason,
                                  before={"state": before.state.value, "tx_id": before.tx_id},
                                  after={"state": after.state.value, "order_id": after.order_id})
        return after

    def book_stock(self, actor: AdminActor, asset: str, amount: Decimal, reason: str,
                   request_id: str) -> WriteResult:
        """`amount` in TRX, USDT or (whole) energy units; positive puts stock in, negative takes it out."""
        if asset == "ENERGY" and amount != amount.to_integral_value():
            raise ValidationFailed("amount: energy is counted in whole units", field="amount")
        account = f"inventory:{asset}"
        before = self._payouts.stock(asset)
        units = int(amount) if asset == "ENERGY" else to_micros(amount)
        written = self._payouts.book_stock(asset, units, reason, request_id)
        self._audit.record_action(actor, "tron.stock", asset, amount=str(amount), reason=reason,
                                  request_id=request_id,
                                  result=written.value, before={account: before},
                                  after={account: self._payouts.stock(asset)})
        return written
