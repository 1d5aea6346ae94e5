"""The shop as the bot sees it: the existing services behind one small interface."""
from __future__ import annotations

from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import Order
from chalicelib.domain.ports.common import Page
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.products import Buyer, Offer
from chalicelib.domain.products.premium import PremiumGift


class ShopFacade:
    def __init__(self, premium: PremiumGift, ordering: OrderingService, orders: OrderStore) -> None:
        self._premium = premium
        self._ordering = ordering
        self._orders = orders

    def offers(self) -> list[Offer]:
        return self._premium.offers()

    def offer(self, product_id: str) -> Offer:
        return self._premium.offer(product_id)

    def create_premium(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                       language: str | None) -> Order:
        return self._ordering.place(Buyer(buyer_user_id, language), product_id,
                                    {"recipient_user_id": recipient_user_id})

    def get_owned(self, order_id: str, owner_id: str) -> Order:
        return self._ordering.get_owned(order_id, owner_id)

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        return self._ordering.list_owned(owner_id, limit, cursor)

    def cancel(self, order_id: str, owner_id: str) -> Order:
        return self._ordering.cancel(order_id, owner_id)

    def remember_message(self, order_id: str, message_id: int) -> None:
        self._orders.update_progress(order_id, notify_message_id=message_id)
