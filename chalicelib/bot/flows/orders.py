"""The buyer's orders: a paged list, one order's details, and an open order's Check and Cancel buttons."""
from __future__ import annotations

from chalicelib.bot import views
from chalicelib.bot.flows.paging import numbered_page
from chalicelib.bot.ports import Shop
from chalicelib.bot.turn import Turn
from chalicelib.bot.verbs import SEPARATOR, integer
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.orders import Order, OrderStatus

ORDERS_PER_PAGE = 5
MAX_ORDER_PAGES = 40


class OrdersFlow:
    def __init__(self, shop: Shop, *, amount_places: int) -> None:
        self._shop = shop
        self._places = amount_places

    def first_page(self, turn: Turn, _: str) -> None:
        self._page(turn, 0)

    def page(self, turn: Turn, page: str) -> None:
        self._page(turn, integer(page or "0"))

    def details(self, turn: Turn, rest: str) -> None:
        order_id, _, page = rest.partition(SEPARATOR)
        order = self._owned(turn, order_id)
        if order is not None:
            turn.show(*views.order_details(order, turn.lang, self._places, integer(page or "0"), turn.now,
                                           self._shop.texts_of(order)))

    def check(self, turn: Turn, order_id: str) -> None:
        order = self._owned(turn, order_id)
        if order is None:
            return
        texts = self._shop.texts_of(order)
        if order.status == OrderStatus.PENDING and views.minutes_left(order, turn.now) > 0:
            turn.answer(turn.t("pay.not_yet"))
            turn.show(*views.payment_message(order, turn.lang, turn.now, self._places, turn.state.data.get("names"),
                                             texts))
            return
        turn.answer(views.status_name(order.status, turn.lang))
        turn.show(*views.status_message(order, turn.lang, self._places, texts))

    def cancel(self, turn: Turn, order_id: str) -> None:
        order = self._owned(turn, order_id)
        if order is None:
            return
        try:
            cancelled = self._shop.cancel(order_id, turn.owner)
        except DomainError:
            current = self._shop.get_owned(order_id, turn.owner)
            turn.answer(turn.t("order.cannot_cancel", status=views.status_name(current.status, turn.lang)), alert=True)
            turn.show(*views.status_message(current, turn.lang, self._places, self._shop.texts_of(current)))
            return
        turn.answer(turn.t("cancel.done"))
        turn.show(*views.status_message(cancelled, turn.lang, self._places, self._shop.texts_of(cancelled)))

    def _owned(self, turn: Turn, order_id: str) -> Order | None:
        try:
            return self._shop.get_owned(order_id, turn.owner)
        except NotFound:
            turn.answer(turn.t("order.not_found"))
            return None

    def _page(self, turn: Turn, page: int) -> None:
        shown = numbered_page(lambda limit, cursor: self._shop.list_owned(turn.owner, limit, cursor), page,
                              ORDERS_PER_PAGE, MAX_ORDER_PAGES)
        if shown.past_end:
            turn.answer(turn.t("callback.stale"))
        turn.show(*views.orders_page(shown.items, shown.number, shown.has_next, turn.lang, self._places,
                                     self._shop.texts_of))
