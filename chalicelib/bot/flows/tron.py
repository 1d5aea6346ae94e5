"""Energy (`/energy`, the Energy button) and the TRX exchange (the exchange button): pick a package or an
amount, type the TRON address that receives it, and get the order's payment message (or, for a package picked
with its Stars button, a Stars invoice). The order's status and its on-chain transaction id show in the order
list and the notices like any order's (`order_facts.py`)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from chalicelib.bot import views
from chalicelib.bot.turn import AWAIT_TRON_ADDRESS, Call, Turn
from chalicelib.bot.verbs import ENERGY_PACKAGE, ENERGY_STARS, EXCHANGE_AMOUNT, MENU, data
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.orders import Order
from chalicelib.domain.products import Offer
from chalicelib.domain.tron import is_valid_tron_address

EXCHANGE_PRESETS_TRX = (20, 50, 100, 500)
REFUSALS = {"ADDRESS_NOT_ACTIVATED": "tron.not_activated", "ENERGY_SOLD_OUT": "tron.sold_out",
            "CHAIN_UNAVAILABLE": "tron.unavailable", "VALIDATION_FAILED": "tron.bad_address"}


class TronShop(Protocol):
    def energy_offers(self) -> list[Offer]: ...

    def exchange_offer(self) -> Offer: ...

    def exchange_price(self, trx: int) -> int: ...

    def place(self, buyer_user_id: int, language: str | None, product_id: str, choice: dict[str, Any]) -> Order: ...

    def star_price(self, product_id: str) -> int | None: ...

    def place_with_stars(self, buyer_user_id: int, language: str | None, product_id: str,
                         choice: dict[str, Any]) -> tuple[Order, dict[str, Any]]:
        """The order, paid in Stars, and its invoice (sendInvoice parameters without the chat)."""

    def texts_of(self, order: Order) -> str | None: ...


class TronFlow:
    def __init__(self, shop: TronShop, *, amount_places: int) -> None:
        self._shop = shop
        self._places = amount_places

    def energy(self, turn: Turn, _: str) -> None:
        turn.set_step(None)
        rows = [self._package_row(turn, offer) for offer in self._shop.energy_offers()]
        turn.show(turn.t("energy.title"), views.inline(*rows, [views.button(turn.t("button.menu"), MENU)]))

    def _package_row(self, turn: Turn, offer: Offer) -> list[dict[str, Any]]:
        """The package at its USDT price and, beside it when it has a Star price, the same package in Stars."""
        row = [views.button(turn.t("button.energy_package", energy=f"{offer.facts['energy']:,}",
                                   hours=offer.facts["hours"], price=views.price(offer.price_micros)),
                            data(ENERGY_PACKAGE, offer.product_id))]
        stars = self._shop.star_price(offer.product_id)
        if stars is not None:
            row.append(views.button(turn.t("button.energy_stars", stars=stars), data(ENERGY_STARS, offer.product_id)))
        return row

    def package_chosen(self, turn: Turn, product_id: str) -> None:
        offer = self._package(product_id)
        turn.set_step(AWAIT_TRON_ADDRESS, product_id=product_id, choice={})
        turn.show(turn.t("energy.ask_address", energy=f"{offer.facts['energy']:,}", hours=offer.facts["hours"],
                         price=views.price(offer.price_micros)), _cancel(turn))

    def package_chosen_with_stars(self, turn: Turn, product_id: str) -> None:
        offer = self._package(product_id)
        stars = self._shop.star_price(product_id)
        if stars is None:
            raise NotFound(f"energy package {product_id} has no Star price")
        turn.set_step(AWAIT_TRON_ADDRESS, product_id=product_id, choice={}, stars=True)
        turn.show(turn.t("energy.ask_address_stars", energy=f"{offer.facts['energy']:,}", hours=offer.facts["hours"],
                         stars=stars), _cancel(turn))

    def _package(self, product_id: str) -> Offer:
        offer = next((offer for offer in self._shop.energy_offers() if offer.product_id == product_id), None)
        if offer is None:
            raise NotFound(f"no energy package {product_id}")
        return offer

    def exchange(self, turn: Turn, _: str) -> None:
        turn.set_step(None)
        facts = self._shop.exchange_offer().facts
        low, high = Decimal(facts["min_trx"]), Decimal(facts["max_trx"])
        row = [views.button(turn.t("button.exchange_amount", trx=trx,
                                   price=views.price(self._shop.exchange_price(trx))),
                            data(EXCHANGE_AMOUNT, trx)) for trx in EXCHANGE_PRESETS_TRX if low <= trx <= high]
        turn.show(turn.t("exchange.title", rate=facts["rate"], spread=facts["spread_percent"], min=facts["min_trx"],
                         max=facts["max_trx"]), views.inline(row, [views.button(turn.t("button.menu"), MENU)]))

    def amount_chosen(self, turn: Turn, trx_text: str) -> None:
        trx = int(trx_text)
        if trx not in EXCHANGE_PRESETS_TRX:
            raise ValueError(f"not an offered amount: {trx}")
        offer = self._shop.exchange_offer()
        turn.set_step(AWAIT_TRON_ADDRESS, product_id=offer.product_id, choice={"trx_amount": str(trx)})
        turn.show(turn.t("exchange.ask_address", trx=trx, price=views.price(self._shop.exchange_price(trx))),
                  _cancel(turn))

    def address_typed(self, turn: Turn, typed: str) -> None:
        address = typed.strip()
        if not is_valid_tron_address(address):
            turn.send(turn.t("tron.bad_address"))
            return
        asked = turn.state.data
        product_id, choice = str(asked.get("product_id")), {**(asked.get("choice") or {}), "address": address}
        with_stars = bool(asked.get("stars"))
        turn.set_step(None)
        try:
            if with_stars:
                order, invoice = self._shop.place_with_stars(turn.user_id, turn.lang, product_id, choice)
            else:
                order, invoice = self._shop.place(turn.user_id, turn.lang, product_id, choice), None
        except DomainError as error:
            turn.send(turn.t(REFUSALS.get(error.code, "tron.sold_out")), views.menu_only(turn.lang))
            return
        if invoice is None:
            turn.send(*views.payment_message(order, turn.lang, turn.now, self._places,
                                             texts=self._shop.texts_of(order)))
            return
        turn.send(turn.t("stars.invoice_sent", order_id=order.order_id, stars=invoice["prices"][0]["amount"]),
                  views.menu_only(turn.lang))
        turn.calls.append(Call("sendInvoice", {"chat_id": turn.incoming.chat_id, **invoice}))


def _cancel(turn: Turn) -> dict[str, Any]:
    return views.inline([views.button(turn.t("button.cancel"), MENU)])
