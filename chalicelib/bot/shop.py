"""The shop as the bot sees it: the existing services behind two small interfaces, Premium and the wallet."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.money import format_amount
from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import Order
from chalicelib.domain.payment_methods.balance import NAME as BALANCE
from chalicelib.domain.payment_methods.stars import NAME as STARS
from chalicelib.domain.ports.common import Page
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.products import Buyer, Offer, ProductRegistry
from chalicelib.domain.products.premium import PremiumGift
from chalicelib.domain.products.wallet_top_up import PRODUCT_ID as TOP_UP, WalletTopUp
from chalicelib.domain.wallet import WalletService


class ShopFacade:
    def __init__(self, premium: PremiumGift, ordering: OrderingService, orders: OrderStore,
                 products: ProductRegistry, stars: Any = None) -> None:
        self._stars = stars      # StarsPayments: prices and invoices in Telegram Stars
        self._premium = premium
        self._ordering = ordering
        self._orders = orders
        self._products = products

    def offers(self) -> list[Offer]:
        return self._premium.offers()

    def offer(self, product_id: str) -> Offer:
        return self._premium.offer(product_id)

    def create_premium(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                       language: str | None) -> Order:
        return self._ordering.place(Buyer(buyer_user_id, language), product_id, _premium_choice(recipient_user_id))

    def buy_premium_from_balance(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                                 language: str | None) -> Order:
        return self._ordering.place(Buyer(buyer_user_id, language), product_id, _premium_choice(recipient_user_id),
                                    BALANCE)

    def top_up_for_premium(self, buyer_user_id: int, amount_micros: int, product_id: str, recipient_user_id: int,
                           language: str | None) -> Order:
        then_buy = {"product_id": product_id, "choice": _premium_choice(recipient_user_id)}
        return self._ordering.place(Buyer(buyer_user_id, language), TOP_UP, _top_up_choice(amount_micros, then_buy))

    def star_price(self, product_id: str) -> int | None:
        return self._stars.star_price(product_id) if self._stars is not None else None

    def buy_premium_with_stars(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                               language: str | None) -> tuple[Order, dict[str, Any]]:
        order = self._ordering.place(Buyer(buyer_user_id, language), product_id, _premium_choice(recipient_user_id),
                                     STARS)
        return order, self._stars.invoice(order)

    def get_owned(self, order_id: str, owner_id: str) -> Order:
        return self._ordering.get_owned(order_id, owner_id)

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        return self._ordering.list_owned(owner_id, limit, cursor)

    def cancel(self, order_id: str, owner_id: str) -> Order:
        return self._ordering.cancel(order_id, owner_id)

    def remember_message(self, order_id: str, message_id: int) -> None:
        self._orders.update_progress(order_id, notify_message_id=message_id)

    def texts_of(self, order: Order) -> str | None:
        try:
            return self._products.by_kind(order.kind).notices.texts
        except LookupError:   # an order of a kind this deployment no longer sells
            return None


class WalletFacade:
    def __init__(self, wallets: WalletService, top_up: WalletTopUp, ordering: OrderingService) -> None:
        self._wallets = wallets
        self._top_up = top_up
        self._ordering = ordering

    def balance(self, owner_id: str) -> int:
        return self._wallets.balance(owner_id).balance_micros

    def history(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        return self._wallets.history(owner_id, limit, cursor)

    def top_up_limits(self) -> tuple[int, int]:
        return self._top_up.limits()

    def top_up(self, buyer_user_id: int, amount_micros: int, language: str | None) -> Order:
        return self._ordering.place(Buyer(buyer_user_id, language), TOP_UP, _top_up_choice(amount_micros))


def _premium_choice(recipient_user_id: int) -> dict[str, Any]:
    return {"recipient_user_id": recipient_user_id}


def _top_up_choice(amount_micros: int, then_buy: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"amount": format_amount(amount_micros, 2), "then_buy": then_buy}
