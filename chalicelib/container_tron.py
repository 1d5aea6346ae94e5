"""The composition root's TRON half (issue 12): the node adapter and the shop's key, payouts and their
limits, and the TRON products. Mixed into `Container` (chalicelib/container.py), built lazily once per
container like the rest; the key is read from SSM on the first signature, never at import."""
from __future__ import annotations

import os
from functools import cached_property
from typing import Any

from chalicelib.observability import count, logger, secret_masker


class TronParts:
    settings: Any
    orders: Any
    clock: Any
    notices: Any
    live_settings: Any
    settlement: Any
    slots: Any
    payments: Any
    trc20_transfers: Any
    ledger: Any
    ordering: Any
    products: Any
    stars_payments: Any
    _tron_transport: Any = None

    def use_tron_transport(self, transport: Any) -> None:
        """Tests and the local stack talk to the fake node in process (an httpx transport)."""
        self._tron_transport = transport

    @cached_property
    def tron_settings(self):
        """A stage that sells nothing on TRON names no node, wallet or key: what needs them answers 503."""
        from chalicelib.domain.errors import ConfigurationError, Unavailable
        from chalicelib.tron_config import load_tron_settings
        try:
            return load_tron_settings({**os.environ, "STAGE": self.settings.stage})
        except ConfigurationError as error:
            raise Unavailable(f"TRON is not configured on this stage ({error})", code="TRON_NOT_CONFIGURED") from error

    @cached_property
    def tron_key(self):
        from chalicelib.adapters.tron.keys import ShopKey

        def read_parameter(name: str) -> str:
            from aws_lambda_powertools.utilities import parameters
            return parameters.get_parameter(name, decrypt=True)
        secret = self.tron_settings.key_reader(read_parameter)()
        secret_masker.register([secret])
        return ShopKey(secret)

    @cached_property
    def tron(self):
        from datetime import timedelta

        from chalicelib.adapters.tron.node import TronNodeClient
        s = self.tron_settings
        if s.api_key is not None:
            secret_masker.register([s.api_key.get_secret_value()])
        return TronNodeClient(s.node_url, s.shop_address, lambda: self.tron_key,
                              api_key=s.api_key.get_secret_value() if s.api_key else None,
                              timeout_seconds=s.timeout_seconds, lifetime=timedelta(seconds=s.lifetime_seconds),
                              usdt_contract=self.settings.usdt_contract,
                              transport=self._tron_transport)

    @cached_property
    def payout_store(self):
        from chalicelib.adapters.dynamodb.payouts import DynamoPayoutStore
        return DynamoPayoutStore()

    @cached_property
    def payouts(self):
        from chalicelib.domain.payouts import PayoutService
        return PayoutService(self.payout_store, self.tron, self.clock, self.notices.alert, count, logger)

    @cached_property
    def payout_gate(self):
        from chalicelib.domain.payout_limits import PayoutGate
        return PayoutGate(self.live_settings, self.tron, self.clock, self.notices.alert)

    @cached_property
    def order_payouts(self):
        from chalicelib.domain.order_payouts import OrderPayouts
        return OrderPayouts(self.orders, self.payouts, self.payout_gate, self.notices, self.clock, count)

    @cached_property
    def trx_exchange(self):
        from chalicelib.domain.products.trx_exchange import TrxExchange
        return TrxExchange(self.live_settings)

    @cached_property
    def trx_exchange_fulfiller(self):
        from chalicelib.domain.products.trx_exchange import TrxExchangeFulfiller
        return TrxExchangeFulfiller(self.trx_exchange, self.order_payouts)

    @cached_property
    def energy_rental(self):
        from chalicelib.domain.products.energy_rental import EnergyRental
        return EnergyRental(self.live_settings, lambda: self.tron)

    @cached_property
    def energy_rental_fulfiller(self):
        from chalicelib.domain.products.energy_rental import EnergyRentalFulfiller
        return EnergyRentalFulfiller(self.order_payouts, self.tron)

    @cached_property
    def withdrawal(self):
        from chalicelib.domain.products.withdrawal import Withdrawal
        return Withdrawal(self.live_settings)

    @property
    def tron_products(self) -> dict:
        """Each TRON product, as a function that builds it (on the first lookup of its kind)."""
        return {"TRX_EXCHANGE": lambda: self.trx_exchange, "ENERGY_RENTAL": lambda: self.energy_rental,
                "WITHDRAWAL": lambda: self.withdrawal}

    @property
    def tron_fulfillers(self) -> dict:
        """Each TRON product's fulfiller, as a function that builds it (on the first order of its kind)."""
        def withdrawal():
            from chalicelib.domain.products.withdrawal import WithdrawalFulfiller
            return WithdrawalFulfiller(self.order_payouts)
        return {"TRX_EXCHANGE": lambda: self.trx_exchange_fulfiller,
                "ENERGY_RENTAL": lambda: self.energy_rental_fulfiller, "WITHDRAWAL": withdrawal}

    @cached_property
    def swap_address(self) -> str | None:
        from chalicelib.tron_config import swap_address
        return swap_address(os.environ, self.settings.stage)

    def receiver_of(self, to_address: str):
        """Who handles a TRC20 transfer to `to_address`: the automatic swap, or the order payments."""
        return self.auto_swap if to_address == self.swap_address else self.trc20_transfers

    @cached_property
    def auto_swap(self):
        from chalicelib.domain.auto_swap import AutoSwap
        from chalicelib.domain.payment_methods.trc20_transfers import PaymentRules, Trc20Transfers
        s = self.settings
        rules = PaymentRules(lambda: frozenset({self.swap_address}), s.usdt_contract, s.amount_suffix_decimals)
        read = Trc20Transfers(self.settlement, self.slots, self.clock, rules).record_of
        return AutoSwap(self.swap_address, read, self.trx_exchange.terms, self.payments, self.settlement,
                        self.payouts, self.payout_gate, self.clock.now, count)

    @cached_property
    def payout_desk(self):
        from chalicelib.domain.payout_desk import PayoutDesk
        return PayoutDesk(self.payout_store, self.tron, self.payout_gate, self.orders, self.ledger, self.clock)

    @cached_property
    def tron_shop(self):
        from chalicelib.bot.tron_shop import TronFacade
        return TronFacade(self.energy_rental, self.trx_exchange, self.ordering, self.products, self.stars_payments)
