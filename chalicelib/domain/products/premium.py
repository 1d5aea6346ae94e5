"""Telegram Premium for oneself or a friend, bought by a buyer (kind PREMIUM_GIFT).

Prices live in the "prices" setting so operators change them live; the Star cost of each gift is
Telegram's and fixed per duration.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from chalicelib.domain.errors import NotFound
from chalicelib.domain.gifting import GiftDelivery
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.money import to_micros
from chalicelib.domain.orders import Order, OrderKind
from chalicelib.domain.products import Buyer, NoticeRules, Offer, OrderDraft, Product
from chalicelib.domain.users import owner_for_user

PRICES_SETTING = "prices"


@dataclass(frozen=True)
class PremiumTerm:
    product_id: str
    month_count: int
    star_count: int
    default_price: Decimal


PREMIUM_TERMS: dict[str, PremiumTerm] = {
    term.product_id: term
    for term in (
        PremiumTerm("premium_3m", 3, 1000, Decimal("15")),
        PremiumTerm("premium_6m", 6, 1500, Decimal("22")),
        PremiumTerm("premium_12m", 12, 2500, Decimal("36")),
    )
}


def default_price_setting() -> dict[str, str]:
    return {product_id: str(term.default_price) for product_id, term in PREMIUM_TERMS.items()}


def _parse_prices(stored: Any) -> dict[str, int]:
    stored = stored if isinstance(stored, dict) else {}
    return {product_id: to_micros(stored.get(product_id, term.default_price))
            for product_id, term in PREMIUM_TERMS.items()}


class PremiumChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient_user_id: StrictInt | None = Field(default=None, gt=0, lt=2**53)


class PremiumGift(Product):
    kind = OrderKind.PREMIUM_GIFT
    notices = NoticeRules(announced=frozenset({"paid", "delivered", "expired", "failed"}),
                          edits_payment_message=True, tells_recipient=True, texts="premium")
    choice = PremiumChoice

    def __init__(self, settings: LiveSettings) -> None:
        self._settings = settings

    def offers(self) -> list[Offer]:
        prices = self._settings.get(PRICES_SETTING, _parse_prices)
        return [Offer(product_id, self.kind, prices[product_id], facts={"month_count": term.month_count})
                for product_id, term in PREMIUM_TERMS.items()]

    def offer(self, product_id: str) -> Offer:
        for offer in self.offers():
            if offer.product_id == product_id:
                return offer
        raise NotFound(f"product_id {product_id!r} is not in the catalog", code="PRODUCT_NOT_FOUND",
                       field="product_id")

    def draft(self, buyer: Buyer, offer: Offer, choice: BaseModel) -> OrderDraft:
        assert isinstance(choice, PremiumChoice)
        term = PREMIUM_TERMS[offer.product_id]
        recipient = choice.recipient_user_id or buyer.user_id
        return OrderDraft(kind=self.kind, owner_id=owner_for_user(buyer.user_id), product_id=offer.product_id,
                          base_micros=offer.price_micros,
                          attributes={"buyer_user_id": buyer.user_id, "recipient_user_id": recipient,
                                      "month_count": term.month_count, "star_count": term.star_count,
                                      "notify_chat_id": buyer.user_id, "language": buyer.language})

    def default_settings(self) -> dict[str, Any]:
        return {PRICES_SETTING: default_price_setting()}

    def facts(self, order: Order) -> dict[str, Any]:
        if order.recipient_user_id is None:
            return {}
        return {"recipient_user_id": order.recipient_user_id, "month_count": order.month_count}


class PremiumGiftFulfiller:
    def __init__(self, gifts: GiftDelivery) -> None:
        self._gifts = gifts

    def fulfil(self, order_id: str) -> Order | None:
        return self._gifts.deliver(order_id, PremiumGift.notices, gift_text)


def gift_text(order: Order) -> str | None:
    if order.buyer_user_id and order.buyer_user_id != order.recipient_user_id:
        return "A Premium gift for you"
    return None
