"""What the bot's flows need from the rest of the shop: `ShopFacade` and the redemption service provide it."""
from __future__ import annotations

from typing import Any, Protocol

from chalicelib.domain.orders import Order
from chalicelib.domain.ports.common import Page
from chalicelib.domain.products import Offer


class Shop(Protocol):
    """The shop services the conversation drives."""

    def offers(self) -> list[Offer]: ...

    def offer(self, product_id: str) -> Offer: ...

    def create_premium(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                       language: str | None) -> Order: ...

    def get_owned(self, order_id: str, owner_id: str) -> Order: ...

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page: ...

    def cancel(self, order_id: str, owner_id: str) -> Order: ...

    def remember_message(self, order_id: str, message_id: int) -> None:
        """The message that shows the order to its buyer; status changes edit it."""


class Redeemer(Protocol):
    def redeem(self, user_id: int, code: str, ip: str | None) -> Any: ...
