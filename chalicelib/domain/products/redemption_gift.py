"""A Premium gift prepaid by a redeemed code (kind REDEMPTION_GIFT): written PAID by the redemption, never
in the catalog, delivered like any gift; the redemption hears how it ended."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.codes import Redemption
from chalicelib.domain.gifting import GiftDelivery, GiftListener
from chalicelib.domain.orders import Order, OrderKind, OrderStatus
from chalicelib.domain.products import NOBODY, NoticeRules, Product
from chalicelib.domain.products.premium import PREMIUM_TERMS
from chalicelib.domain.users import owner_for_user

GIFT_TEXT = "Premium from a redeemed code"


class RedemptionGift(Product):
    kind = OrderKind.REDEMPTION_GIFT
    audience = NOBODY
    notices = NoticeRules(announced=frozenset({"delivered", "failed"}), edits_payment_message=True,
                          texts="premium")

    @staticmethod
    def order_for(redemption: Redemption, now: datetime) -> Order:
        term = PREMIUM_TERMS.get(redemption.product_id)
        return Order(order_id=redemption.gift_order_id, kind=RedemptionGift.kind,
                     owner_id=owner_for_user(redemption.user_id), status=OrderStatus.PAID,
                     product_id=redemption.product_id, amount_micros=0, payment_method="code", network=None,
                     created_at=now, status_changed_at=now, paid_at=now, buyer_user_id=redemption.user_id,
                     recipient_user_id=redemption.user_id, month_count=redemption.month_count,
                     star_count=term.star_count if term else None, redemption_id=redemption.redemption_id,
                     notify_chat_id=redemption.user_id)


class RedemptionGiftFulfiller:
    def __init__(self, gifts: GiftDelivery, redemptions: GiftListener) -> None:
        self._gifts = gifts
        self._redemptions = redemptions

    def fulfil(self, order_id: str) -> Order | None:
        return self._gifts.deliver(order_id, RedemptionGift.notices, lambda order: GIFT_TEXT, self._redemptions)
