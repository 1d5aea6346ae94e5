"""The shop as the bot sees it: the existing services behind one small interface."""
from __future__ import annotations

from chalicelib.domain.catalog import Catalog, Offer
from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import Order
from chalicelib.domain.ports import OrderRepository, Page
from chalicelib.domain.premium import PremiumOrders


class ShopFacade:
    def __init__(self, catalog: Catalog, premium: PremiumOrders, ordering: OrderingService,
                 orders: OrderRepository) -> None:
        self._catalog = catalog
        self._premium = premium
        self._ordering = ordering
        self._orders = orders

    def offers(self) -> list[Offer]:
        return self._catalog.offers()

    def offer(self, product_id: str) -> Offer:
        return self._catalog.offer(product_id)

    def create_premium(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                       language: str | None) -> Order:
        return self._premium.create(buyer_user_id, product_id, recipient_user_id, language)

    def get_owned(self, order_id: str, owner_id: str) -> Order:
        return self._ordering.get_owned(order_id, owner_id)

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        return self._ordering.list_owned(owner_id, limit, cursor)

    def cancel(self, order_id: str, owner_id: str) -> Order:
        return self._ordering.cancel(order_id, owner_id)

    def remember_message(self, order_id: str, message_id: int) -> None:
        self._orders.update_progress(order_id, notify_message_id=message_id)
