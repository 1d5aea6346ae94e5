"""The ledger model's TRON steps (issue 12), mixed into the state machine: order a TRX exchange or an energy
rental (paid by transfer like any order, so every payment rule applies to them), withdraw from the wallet
(the delivery's "permanent" trouble makes the withdrawal's USDT transfer revert on chain: its burned TRX is
booked once, the order goes to review), and run the payout schedule that takes ended rentals back. The
invariant compares the books' TRX, energy and USDT payout accounts, the network fees and the fake chain with
the model: every delivered order paid out once, on chain once."""
from __future__ import annotations

import functools
from collections import Counter
from decimal import ROUND_CEILING, Decimal

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from devstack.tron_node.local import BUYER_ADDRESSES
from tests.model.shop import ENERGY, EXCHANGE, MICRO, WITHDRAWAL, Order

USERS = (1001, 1002, 1003)
ADDRESS = dict(zip(USERS, BUYER_ADDRESSES, strict=True))
# The products' default settings, as the operator's rules state them.
RATE, SPREAD = Decimal("0.25"), Decimal("0.03")
PACKAGES = {"energy_65k_1h": (65_000, 1, 2_500_000), "energy_131k_1d": (131_000, 24, 9_000_000)}
WITHDRAWAL_FEE = MICRO


def exchange_price(sun: int) -> int:
    """What `sun` of TRX costs: the posted rate plus the spread, rounded up to the cent."""
    cents = (Decimal(sun) / MICRO * RATE * (1 + SPREAD) * 100).to_integral_value(ROUND_CEILING)
    return int(cents) * 10_000


def step(method):
    @functools.wraps(method)
    def run(self, **arguments):
        self.whole = False
        method(self, **arguments)
        self.whole = True
        self.counted(method.__name__)
    return run


class TronSteps:
    @rule(user=st.sampled_from(USERS), trx=st.sampled_from((20, 50)))
    @step
    def order_exchange(self, user, trx):
        sun = trx * MICRO
        price = exchange_price(sun)
        expected, amount = self.shop.expect_transfer_order(user, price, self.now())
        status, body = self.world.post_order(user, {"product_id": "trx_exchange", "address": ADDRESS[user],
                                                    "trx_amount": str(trx)})
        assert status == expected, body
        if status == 201:
            assert (body["status"], int(Decimal(body["amount"]) * MICRO)) == ("PENDING", amount), body
            self._opened(Order(body["order_id"], user, EXCHANGE, "trc20", amount, price, "PENDING", self.now(),
                               self.now(), payout=sun))

    @rule(user=st.sampled_from(USERS), package=st.sampled_from(sorted(PACKAGES)))
    @step
    def rent_energy(self, user, package):
        energy, hours, price = PACKAGES[package]
        expected, amount = self.shop.expect_transfer_order(user, price, self.now())
        status, body = self.world.post_order(user, {"product_id": package, "address": ADDRESS[user]})
        assert status == expected, body
        if status == 201:
            self._opened(Order(body["order_id"], user, ENERGY, "trc20", amount, price, "PENDING", self.now(),
                               self.now(), payout=energy, hours=hours))

    @rule(user=st.sampled_from(USERS), amount=st.sampled_from(("5", "12.5")))
    @step
    def withdraw(self, user, amount):
        sent = int(Decimal(amount) * MICRO)
        price = sent + WITHDRAWAL_FEE
        status, body = self.world.post_order(user, {"product_id": "withdrawal", "payment_method": "balance",
                                                    "address": ADDRESS[user], "amount": amount})
        if self.shop.wallets[user] < price:
            assert (status, body["error"]["code"]) == (409, "INSUFFICIENT_BALANCE"), body
            return
        assert (status, body["status"]) == (201, "PAID"), body
        self.shop.pay_from_wallet(Order(body["order_id"], user, WITHDRAWAL, "balance", price, price, "PAID",
                                        self.now(), self.now(), payout=sent))

    @rule()
    @step
    def payout_job(self):
        returned = self.shop.return_energy(self.now())
        report = self.world.tick("drive_payouts")
        assert report["landed"] == returned, report

    @invariant()
    def payouts_match_the_model_and_the_chain(self):
        shop, balances = self.shop, self.world.books().balances
        for kind in (EXCHANGE, ENERGY, WITHDRAWAL):
            assert balances.get(f"revenue:{kind}:USDT", 0) == shop.product_revenue[kind], kind
        assert -balances.get(f"payouts:{EXCHANGE}:TRX", 0) == shop.paid_out["TRX"]
        assert balances.get("inventory:hot-wallet:TRX", 0) == shop.paid_out["TRX"] + shop.burned
        assert -balances.get("network_fees:TRX", 0) == shop.burned
        assert -balances.get(f"payouts:{WITHDRAWAL}:USDT", 0) == shop.paid_out["USDT"]
        lent = sum(balance for account, balance in balances.items() if account.startswith("delegated:"))
        assert -lent == shop.lent and balances.get("inventory:energy:ENERGY", 0) == shop.lent
        chain = self.world.chain
        sent = Counter((value["type"], value.get("to_address") or value.get("receiver_address")
                        or value.get("token_to")) for value in chain.landed_payouts())
        delivered = Counter()
        reverted = [order for order in shop.orders.values() if order.kind == WITHDRAWAL
                    and order.status == "NEEDS_REVIEW"]
        for order in reverted:                           # in a block, reverted: on chain all the same
            delivered[("TriggerSmartContract", ADDRESS[order.user_id])] += 1
        assert sum(landed.result != "SUCCESS" for landed in chain.landed.values()) == len(reverted)
        for order in shop.orders.values():
            if order.status == "DELIVERED" and order.payout:
                contract = {EXCHANGE: "TransferContract", ENERGY: "DelegateResourceContract",
                            WITHDRAWAL: "TriggerSmartContract"}[order.kind]
                delivered[(contract, ADDRESS[order.user_id])] += 1
                if order.returned:
                    delivered[("UnDelegateResourceContract", ADDRESS[order.user_id])] += 1
        assert sent == delivered, "a payout is missing on chain, or was made twice"
