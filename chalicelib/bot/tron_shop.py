"""The TRON products as the bot sees them (flows/tron.py): energy packages, the exchange's offer and price,
and placing an order paid by a unique transfer."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.money import MICROS_PER_UNIT
from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import Order
from chalicelib.domain.products import Buyer, Offer, ProductRegistry
from chalicelib.domain.products.energy_rental import EnergyRental
from chalicelib.domain.products.trx_exchange import TrxExchange


class TronFacade:
    def __init__(self, energy: EnergyRental, exchange: TrxExchange, ordering: OrderingService,
                 products: ProductRegistry) -> None:
        self._energy = energy
        self._exchange = exchange
        self._ordering = ordering
        self._products = products

    def energy_offers(self) -> list[Offer]:
        return self._energy.offers()

    def exchange_offer(self) -> Offer:
        return self._exchange.offers()[0]

    def exchange_price(self, trx: int) -> int:
        return self._exchange.terms().price_of(trx * MICROS_PER_UNIT)

    def place(self, buyer_user_id: int, language: str | None, product_id: str, choice: dict[str, Any]) -> Order:
        return self._ordering.place(Buyer(buyer_user_id, language), product_id, choice)

    def texts_of(self, order: Order) -> str | None:
        return self._products.by_kind(order.kind).notices.texts
