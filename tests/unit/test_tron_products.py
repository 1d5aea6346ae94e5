"""The TRON products' rules without AWS: the exchange's prices and amounts (spread, rounding, the late payer's
smaller amount), the staked TRX an energy package needs, and what each kind of payout books."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.payouts import delegated, energy_inventory, hot_wallet, network_fees, payout_entries, \
    payouts_account
from chalicelib.domain.ports.payouts import Payout
from chalicelib.domain.ports.tron import PayoutAction
from chalicelib.domain.products.energy_rental import staked_sun_for
from chalicelib.domain.products.trx_exchange import TrxExchange, parse_terms

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
TO = "TKrZRAWshDdt61PwMf2bzvreo8yoYvDJNp"


def test_the_exchange_price_carries_the_spread_rounded_up_to_the_cent():
    terms = parse_terms({"rate": "0.25", "spread_percent": "3"})
    assert terms.price_of(20_000_000) == 5_150_000            # 20 x 0.2575
    assert terms.price_of(50_000_000) == 12_880_000           # 12.875 up to the cent
    assert terms.sun_for(10_000_000) == 38_834_951            # 10 / 0.2575, down to the sun
    assert terms.price_of(terms.sun_for(10_000_000)) <= 10_000_000


class _Settings:
    def __init__(self, value):
        self.value = value

    def get(self, setting_id, parse):
        return parse(self.value)


def _order(**changes) -> Order:
    values = dict(order_id="o1", kind="TRX_EXCHANGE", owner_id="user:1", status=OrderStatus.PAID,
                  product_id="trx_exchange", amount_micros=5_151_000, surcharge_micros=1_000, created_at=NOW,
                  status_changed_at=NOW, details={"to_address": TO, "trx_sun": 20_000_000})
    return Order(**{**values, **changes})


@pytest.mark.parametrize(("rate", "expected"), [("0.25", 20_000_000), ("0.30", 16_666_666), ("0.20", 20_000_000)])
def test_a_late_payer_gets_the_locked_amount_or_what_the_rate_gives_now_whichever_is_less(rate, expected):
    product = TrxExchange(_Settings({"rate": rate, "spread_percent": "3"}))
    assert product.payout_sun(_order()) == 20_000_000
    assert product.payout_sun(_order(paid_late=True)) == expected


def test_energy_is_bought_with_whole_staked_trx():
    assert staked_sun_for(65_000, 10_000_000) == 6_500_000_000         # ten energy a TRX
    assert staked_sun_for(65_001, 10_000_000) == 6_501_000_000         # rounded up
    with pytest.raises(ValueError):
        staked_sun_for(65_000, 0)


def _payout(action: PayoutAction, amount: int, booked: int, purpose: str = "TRX_EXCHANGE") -> Payout:
    return Payout("order:o1", action, TO, amount, booked, purpose, "ab" * 32, {}, NOW, NOW, order_id="o1")


def _lines(entry: JournalEntry) -> dict[str, int]:
    return {line.account: line.amount_micros for line in entry.lines}


def test_what_each_payout_books():
    (trx,) = payout_entries(_payout(PayoutAction.TRANSFER, 5, 5), 2, NOW)
    assert (trx.currency, _lines(trx)) == ("TRX", {hot_wallet(): 7, payouts_account("TRX_EXCHANGE"): -5,
                                                   network_fees(): -2})
    assert ("ab" * 32) in trx.memo and trx.transaction_id is None
    lent, fee = payout_entries(_payout(PayoutAction.DELEGATE, 6_500_000_000, 65_000, "ENERGY_RENTAL"), 3, NOW)
    assert _lines(lent) == {energy_inventory(): 65_000, delegated(TO): -65_000}
    assert (fee.entry_id, _lines(fee)) == ("payout-fee:order:o1", {hot_wallet(): 3, network_fees(): -3})
    (back,) = payout_entries(_payout(PayoutAction.UNDELEGATE, 6_500_000_000, 65_000, "ENERGY_RENTAL"), 0, NOW)
    assert _lines(back) == {energy_inventory(): -65_000, delegated(TO): 65_000}
    (usdt,) = payout_entries(_payout(PayoutAction.TOKEN_TRANSFER, 9, 9, "WITHDRAWAL"), 0, NOW)
    assert (usdt.currency, _lines(usdt)) == ("USDT", {hot_wallet("USDT"): 9, payouts_account("WITHDRAWAL", "USDT"): -9})
