"""The wallet: its balance, its history page by page, and topping it up by a preset or a typed amount.

A preset amount orders at once from the amount picker (its button carries the picker's stamp); a typed amount
is confirmed first, because only a tapped button's message can become the payment message that notices edit.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Callable

from chalicelib.bot import views, wallet_views
from chalicelib.bot.flows.paging import numbered_page
from chalicelib.bot.placing import OrderGate, refusal, stamp
from chalicelib.bot.ports import Shop, Wallet
from chalicelib.bot.turn import AWAIT_TOP_UP, Turn
from chalicelib.bot.verbs import SEPARATOR, integer
from chalicelib.domain.errors import DomainError
from chalicelib.domain.money import MICROS_PER_UNIT

PRESETS_MICROS = tuple(usdt * MICROS_PER_UNIT for usdt in (10, 25, 50, 100))
HISTORY_PER_PAGE = 10
MAX_HISTORY_PAGES = 20
# What a person types for an amount: "25", "12.5", "12,50", "25 usdt". At most two decimals: a top-up counts cents.
TYPED_AMOUNT = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,2}))?(?:\s*usdt)?", re.IGNORECASE)


class WalletFlow:
    def __init__(self, shop: Shop, wallet: Wallet, once: Callable[[str, int], bool], *, amount_places: int,
                 surcharge_cap_micros: int) -> None:
        self._shop = shop
        self._wallet = wallet
        self._gate = OrderGate(once)
        self._places = amount_places
        self._cap = surcharge_cap_micros

    def show(self, turn: Turn, _: str) -> None:
        """The Wallet button, /balance, and Back from the wallet's screens (leaving a wait for an amount)."""
        turn.set_step(None)
        turn.show(*wallet_views.wallet_screen(self._wallet.balance(turn.owner), turn.lang))

    def history(self, turn: Turn, page: str) -> None:
        shown = numbered_page(lambda limit, cursor: self._wallet.history(turn.owner, limit, cursor),
                              integer(page or "0"), HISTORY_PER_PAGE, MAX_HISTORY_PAGES)
        if shown.past_end:
            turn.answer(turn.t("callback.stale"))
        turn.show(*wallet_views.history_page(shown.items, shown.number, shown.has_next,
                                             self._wallet.balance(turn.owner), turn.lang))

    def ask_amount(self, turn: Turn, _: str) -> None:
        low, high = self._wallet.top_up_limits()
        presets = [preset for preset in PRESETS_MICROS if low <= preset <= high]
        turn.set_step(AWAIT_TOP_UP)
        turn.show(*wallet_views.top_up_picker(presets, low, high, stamp(turn.now, turn.incoming.update_id), turn.lang))

    def amount_typed(self, turn: Turn, typed: str) -> None:
        """A wrong amount is explained and the wait goes on; a right one is confirmed with a button."""
        micros = _typed_micros(typed)
        if micros is None:
            turn.send(turn.t("wallet.bad_amount"))
            return
        low, high = self._wallet.top_up_limits()
        if not low <= micros <= high:
            turn.send(self._out_of_range(turn))
            return
        turn.set_step(None)
        turn.send(*wallet_views.top_up_confirmation(micros, stamp(turn.now, turn.incoming.update_id), turn.lang,
                                             surcharge_cap_micros=self._cap, places=self._places))

    def amount_chosen(self, turn: Turn, rest: str) -> None:
        """`ta:<cents>:<stamp>`: a preset or a confirmed amount, checked against the limits before anything is
        claimed (a button can be forged); one top-up per screen."""
        cents_text, stamped = rest.split(SEPARATOR)
        micros = integer(cents_text) * views.CENT_MICROS
        low, high = self._wallet.top_up_limits()
        if not low <= micros <= high:
            self._refused(turn, self._out_of_range(turn))
            return
        if not self._gate.admits(turn, "top_up", stamped):
            return
        try:
            order = self._wallet.top_up(turn.user_id, micros, turn.lang)
        except DomainError as error:   # the limits changed in between, too many orders open, payments busy
            self._refused(turn, self._out_of_range(turn) if error.code == "AMOUNT_OUT_OF_RANGE"
                          else refusal(turn, error))
            return
        turn.set_step(None)
        if turn.incoming.message_id is not None:
            self._shop.remember_message(order.order_id, turn.incoming.message_id)
        turn.show(*views.payment_message(order, turn.lang, turn.now, self._places, texts=self._shop.texts_of(order)))

    def _out_of_range(self, turn: Turn) -> str:
        low, high = self._wallet.top_up_limits()
        return turn.t("wallet.amount_out_of_range", min=views.price(low), max=views.price(high))

    def _refused(self, turn: Turn, message: str) -> None:
        turn.answer(message, alert=True)
        self.show(turn, "")


def _typed_micros(typed: str) -> int | None:
    match = TYPED_AMOUNT.fullmatch(typed.strip())
    if match is None:
        return None
    whole, fraction = match.group(1), match.group(2) or "0"
    return int(Decimal(f"{whole}.{fraction}") * MICROS_PER_UNIT)
