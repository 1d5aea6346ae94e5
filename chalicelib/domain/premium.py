"""Buying Telegram Premium for oneself or a friend."""
from __future__ import annotations

from chalicelib.domain.catalog import Catalog
from chalicelib.domain.ordering import OrderDraft, OrderingService
from chalicelib.domain.orders import Order, OrderKind, owner_for_user


class PremiumOrders:
    def __init__(self, catalog: Catalog, ordering: OrderingService) -> None:
        self._catalog = catalog
        self._ordering = ordering

    def create(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
               language: str | None = None) -> Order:
        offer = self._catalog.offer(product_id)
        product = offer.product
        draft = OrderDraft(kind=OrderKind.PREMIUM_GIFT, owner_id=owner_for_user(buyer_user_id),
                           product_id=product.product_id, base_micros=offer.price_micros,
                           attributes={"buyer_user_id": buyer_user_id, "recipient_user_id": recipient_user_id,
                                       "month_count": product.month_count, "star_count": product.star_count,
                                       "notify_chat_id": buyer_user_id, "language": language})
        return self._ordering.create(draft)
