"""The TRON products as the bot sees them (flows/tron.py): energy packages, the exchange's offer and price,
and placing an order paid by a unique transfer, or in Stars where the product has a Star price."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.money import MICROS_PER_UNIT
from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import Order
from chalicelib.domain.payment_methods.stars import NAME as STARS
from chalicelib.domain.products import Buyer, Offer, ProductRegistry
from chalicelib.domain.products.energy_rental import EnergyRental
from chalicelib.domain.products.trx_exchange import TrxExchange


class TronFacade:
    def __init__(self, energy: EnergyRental, exchange: TrxExchange, ordering: OrderingService,
                 products: ProductRegistry, stars: Any = None) -> None:
        self._stars = stars      # StarsPayments: prices and invoices in Telegram Stars
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

    def star_price(self, product_id: str) -> int | None:
        return self._stars.star_price(product_id) if self._stars is not None else None

    def place_with_stars(self, buyer_user_id: int, language: str | None, product_id: str,
                         choice: dict[str, Any]) -> tuple[Order, dict[str, Any]]:
        order = self._ordering.place(Buyer(buyer_user_id, language), product_id, choice, STARS)
        return order, self._stars.invoice(order)

    def texts_of(self, order: Order) -> str | None:
        return self._products.by_kind(order.kind).notices.texts
