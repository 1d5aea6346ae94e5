"""What the bot's flows need from the rest of the shop: `ShopFacade`, `WalletFacade` and the redemption
service provide it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # types only: a cold /start loads neither the order model nor the product registry
    from chalicelib.domain.orders import Order
    from chalicelib.domain.ports.common import Page
    from chalicelib.domain.products import Offer


class Shop(Protocol):
    """The shop services the conversation drives."""

    def offers(self) -> list[Offer]: ...

    def offer(self, product_id: str) -> Offer: ...

    def create_premium(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                       language: str | None) -> Order: ...

    def buy_premium_from_balance(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                                 language: str | None) -> Order:
        """Paid at once from the buyer's wallet; InsufficientBalance when the wallet holds less."""

    def top_up_for_premium(self, buyer_user_id: int, amount_micros: int, product_id: str, recipient_user_id: int,
                           language: str | None) -> Order:
        """A top-up of the wallet that buys this Premium from the balance once it is paid."""

    def star_price(self, product_id: str) -> int | None:
        """What the product costs in Telegram Stars; None when it cannot be paid in Stars."""

    def buy_premium_with_stars(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                               language: str | None) -> tuple[Order, dict[str, Any]]:
        """The PENDING Stars order and the sendInvoice parameters (without chat_id) of its invoice."""

    def get_owned(self, order_id: str, owner_id: str) -> Order: ...

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page: ...

    def cancel(self, order_id: str, owner_id: str) -> Order: ...

    def remember_message(self, order_id: str, message_id: int) -> None:
        """The message that shows the order to its buyer; status changes edit it."""

    def texts_of(self, order: Order) -> str | None:
        """The wording the order's product has of its own (`NoticeRules.texts`), if any."""


class Wallet(Protocol):
    """A buyer's wallet: what it holds, what moved, and topping it up."""

    def balance(self, owner_id: str) -> int: ...

    def history(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        """The wallet's lines (ledger.HistoryLine), newest first."""

    def top_up_limits(self) -> tuple[int, int]:
        """The least and the most one top-up may bring, in micros."""

    def top_up(self, buyer_user_id: int, amount_micros: int, language: str | None) -> Order: ...


class Redeemer(Protocol):
    def redeem(self, user_id: int, code: str, ip: str | None) -> Any: ...
