"""Risk limits on what leaves the hot wallet, from the live setting "payout_limits": a maximum per payout, a
ceiling per UTC day (counted by the claim itself, so racing workers cannot pass it together), a TRX reserve
the hot wallet keeps, and the staked energy available to lend. A payout a limit stops waits (the order is
WAITING_FUNDS) and the operator is alerted, at most once per cooldown for each reason."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.money import format_amount, to_micros
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.payouts import DailyCeiling
from chalicelib.domain.ports.tron import AccountState, PayoutAction, PayoutOrder, TronChain

SETTING = "payout_limits"
DEFAULTS = {"per_payout_max_trx": "5000", "daily_max_trx": "50000", "hot_wallet_reserve_trx": "20",
            "daily_max_energy": "20000000", "per_payout_max_usdt": "2000", "daily_max_usdt": "20000"}
TOKEN_FEE_RESERVE_SUN = 30_000_000          # the fee limit a USDT transfer may burn


@dataclass(frozen=True)
class Limits:
    per_payout_max_sun: int
    daily_max_sun: int
    reserve_sun: int
    daily_max_energy: int
    per_payout_max_usdt: int
    daily_max_usdt: int


def parse_limits(stored: Any) -> Limits:
    values = {**DEFAULTS, **(stored if isinstance(stored, dict) else {})}
    return Limits(to_micros(values["per_payout_max_trx"]), to_micros(values["daily_max_trx"]),
                  to_micros(values["hot_wallet_reserve_trx"]), int(values["daily_max_energy"]),
                  to_micros(values["per_payout_max_usdt"]), to_micros(values["daily_max_usdt"]))


class PayoutGate:
    def __init__(self, settings: LiveSettings, chain: TronChain, clock: Clock,
                 alert: Callable[[str, str], None]) -> None:
        self._settings = settings
        self._chain = chain
        self._clock = clock
        self._alert = alert

    def limits(self) -> Limits:
        return self._settings.get(SETTING, parse_limits)

    def refusal(self, instruction: PayoutOrder) -> str | None:
        """Why the hot wallet cannot make this payout now (None: it can). Reads the chain."""
        limits = self.limits()
        if instruction.action == PayoutAction.UNDELEGATE:
            return None                       # taking energy back is never held up
        account = self._chain.account(self._chain.shop_address)
        if instruction.action == PayoutAction.TRANSFER:
            if instruction.amount_sun > limits.per_payout_max_sun:
                return f"{format_amount(instruction.amount_sun, 0)} TRX is over the per-payout maximum " \
                       f"{format_amount(limits.per_payout_max_sun, 0)} TRX"
            if account.balance_sun - limits.reserve_sun < instruction.amount_sun:
                return f"the hot wallet holds {format_amount(account.balance_sun, 0)} TRX, too little for " \
                       f"{format_amount(instruction.amount_sun, 0)} TRX above its reserve"
            return None
        if instruction.action == PayoutAction.TOKEN_TRANSFER:
            return self._token_refusal(instruction.amount_sun, account, limits)
        if account.delegatable_energy_sun < instruction.amount_sun:
            return f"staked TRX free to delegate is {format_amount(account.delegatable_energy_sun, 0)}, " \
                   f"{format_amount(instruction.amount_sun, 0)} needed"
        return None

    @staticmethod
    def _token_refusal(micros: int, account: AccountState, limits: Limits) -> str | None:
        if micros > limits.per_payout_max_usdt:
            return f"{format_amount(micros, 2)} USDT is over the per-payout maximum " \
                   f"{format_amount(limits.per_payout_max_usdt, 2)} USDT"
        if account.usdt_micros < micros:
            return f"the hot wallet holds {format_amount(account.usdt_micros, 2)} USDT, too little for " \
                   f"{format_amount(micros, 2)} USDT"
        if account.balance_sun < TOKEN_FEE_RESERVE_SUN + limits.reserve_sun:
            return f"the hot wallet holds {format_amount(account.balance_sun, 0)} TRX, too little for the fee"
        return None

    def ceiling(self, asset: str) -> DailyCeiling:
        limits = self.limits()
        day = self._clock.now().date().isoformat()
        limit = {"TRX": limits.daily_max_sun, "USDT": limits.daily_max_usdt}.get(asset, limits.daily_max_energy)
        return DailyCeiling(day, limit)

    def stopped(self, reason_key: str, text: str) -> None:
        self._alert(f"payouts-stopped:{reason_key}", f"Payouts wait: {text}")
