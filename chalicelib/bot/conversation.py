"""The buyer's conversation: one parsed update and the chat's state in, Bot API calls out.

This module only routes: a command, a callback's verb or the text typed at a step goes to its flow in
`chalicelib.bot.flows`. Most screens are stateless: each button carries what it needs in its callback
data (months, recipient, order id, page), so an old button still does something sensible. State is kept
only while the bot waits for typed input: a recipient's @username, a redeem code, or an amount to top up.
"""
from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from chalicelib.bot import verbs
from chalicelib.bot.ports import Redeemer, Shop, Wallet
from chalicelib.bot.turn import (AWAIT_CODE, AWAIT_RECIPIENT, AWAIT_TOP_UP, AWAIT_TRON_ADDRESS, REDEEM_LINK_PREFIX,
                                 STEP_TTL_SECONDS, Call, Turn)
from chalicelib.bot.updates import CALLBACK, MESSAGE, USERS_SHARED, Incoming
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ports.bot import ChatState
from chalicelib.domain.ports.people import UserStore

if TYPE_CHECKING:
    from chalicelib.bot.flows.tron import TronShop

Handler = Callable[[Turn, str], None]   # the turn, and a command's arguments, a verb's rest or typed text


class Conversation:
    """Each flow is built, and its module imported, by the first update that goes to it: a cold `/start`
    builds the menu, not the buying, wallet, redeem and TRON flows."""

    def __init__(self, shop: Shop, wallet: Wallet, directory: UserStore, redeemer: Redeemer | None,
                 once: Callable[[str, int], bool], *, amount_places: int, surcharge_cap_micros: int,
                 store_url: str | None = None, tron: TronShop | None = None) -> None:
        self._shop = shop   # the one Shop every flow drives; the end-to-end tests stub it here
        self._wallet, self._directory, self._redeemer, self._once, self._tron = wallet, directory, redeemer, once, tron
        self._store_url, self._amount_places = store_url, amount_places
        self._money = {"amount_places": amount_places, "surcharge_cap_micros": surcharge_cap_micros}
        menu, buy, orders, funds, redeem, language = (
            self._route_to(flow) for flow in ("_menu", "_buy", "_orders", "_funds", "_redeem", "_language"))
        self._commands: dict[str, Handler] = {
            "start": self._start, "help": menu("help"), "cancel": menu("cancel"), "orders": orders("first_page"),
            "redeem": redeem("command"), "language": language("picker"), "balance": funds("show")}
        self._typed: dict[str | None, Handler] = {AWAIT_CODE: redeem("code_given"),
                                                  AWAIT_RECIPIENT: buy("username_typed"),
                                                  AWAIT_TOP_UP: funds("amount_typed")}
        self._callbacks: dict[str, Handler] = {
            verbs.MENU: menu("menu"), verbs.HELP: menu("help"),
            verbs.BUY: buy("choose_months"), verbs.MONTHS: buy("months_chosen"),
            verbs.RECIPIENT: buy("recipient_chosen"), verbs.CONFIRM: buy("confirm"),
            verbs.PAY_FROM_BALANCE: buy("pay_from_balance"), verbs.TOP_UP_DIFFERENCE: buy("top_up_difference"),
            verbs.PAY_WITH_STARS: buy("pay_with_stars"),
            verbs.ORDERS: orders("page"), verbs.ORDER: orders("details"), verbs.CHECK: orders("check"),
            verbs.CANCEL_ORDER: orders("cancel"),
            verbs.WALLET: funds("show"), verbs.HISTORY: funds("history"), verbs.TOP_UP: funds("ask_amount"),
            verbs.TOP_UP_AMOUNT: funds("amount_chosen"),
            verbs.REDEEM: redeem("ask"),
            verbs.LANGUAGE: language("picker"), verbs.SET_LANGUAGE: language("choose")}
        if tron is not None:
            self._add_tron(self._route_to("_tron_flow"))

    def _route_to(self, flow: str) -> Callable[[str], Handler]:
        """Handlers of one flow by step name, that build the flow when the first of them is called."""
        return lambda step: lambda turn, value: getattr(getattr(self, flow), step)(turn, value)

    def _add_tron(self, tron: Callable[[str], Handler]) -> None:
        """Energy and the TRX exchange (flows/tron.py): their command, buttons and the typed address."""
        self._commands["energy"] = tron("energy")
        self._typed[AWAIT_TRON_ADDRESS] = tron("address_typed")
        self._callbacks.update({verbs.ENERGY: tron("energy"), verbs.ENERGY_PACKAGE: tron("package_chosen"),
                                verbs.ENERGY_STARS: tron("package_chosen_with_stars"),
                                verbs.EXCHANGE: tron("exchange"), verbs.EXCHANGE_AMOUNT: tron("amount_chosen")})

    @cached_property
    def _menu(self):
        from chalicelib.bot.flows.menu import MenuFlow
        return MenuFlow(self._store_url)

    @cached_property
    def _buy(self):
        from chalicelib.bot.flows.buy import BuyFlow
        return BuyFlow(self._shop, self._wallet, self._directory, self._once, **self._money)

    @cached_property
    def _orders(self):
        from chalicelib.bot.flows.orders import OrdersFlow
        return OrdersFlow(self._shop, amount_places=self._amount_places)

    @cached_property
    def _funds(self):
        from chalicelib.bot.flows.wallet import WalletFlow
        return WalletFlow(self._shop, self._wallet, self._once, **self._money)

    @cached_property
    def _redeem(self):
        from chalicelib.bot.flows.redeem import RedeemFlow
        return RedeemFlow(self._redeemer)

    @cached_property
    def _language(self):
        from chalicelib.bot.flows.language import LanguageFlow
        return LanguageFlow(self._directory)

    @cached_property
    def _tron_flow(self):
        from chalicelib.bot.flows.tron import TronFlow
        return TronFlow(self._tron, amount_places=self._amount_places)

    def handle(self, incoming: Incoming, state: ChatState, now: datetime) -> list[Call]:
        if state.step and int(now.timestamp()) - state.step_at > STEP_TTL_SECONDS:
            state.step, state.step_at = None, 0
        turn = Turn(incoming, state, now)
        if incoming.kind == CALLBACK:
            self._on_callback(turn)
        elif incoming.kind == USERS_SHARED:
            self._buy.users_shared(turn)
        elif incoming.kind == MESSAGE:
            self._on_message(turn)
        return turn.finish()

    def fail(self, incoming: Incoming, state: ChatState, now: datetime) -> list[Call]:
        """What the user sees when handling raised: always an answer to a tapped button."""
        turn = Turn(incoming, state, now)
        if incoming.kind == CALLBACK:
            turn.answer(turn.t("error.generic"), alert=True)
        elif incoming.chat_id is not None:
            turn.send(turn.t("error.generic"))
        return turn.finish()

    def _on_message(self, turn: Turn) -> None:
        """A command goes to its flow; other text to the flow whose step waits for it."""
        incoming = turn.incoming
        if incoming.command is not None:
            handler, value = self._commands.get(incoming.command), incoming.args
        elif incoming.text.strip():
            handler, value = self._typed.get(turn.state.step), incoming.text
        else:
            handler, value = None, ""
        (handler or self._menu.unknown)(turn, value)

    def _on_callback(self, turn: Turn) -> None:
        verb, rest = verbs.split(turn.incoming.data)
        handler = self._callbacks.get(verb)
        if handler is None:
            turn.answer(turn.t("callback.stale"))
            return
        try:
            handler(turn, rest)
        except (ValueError, NotFound):
            turn.answer(turn.t("callback.stale"))

    def _start(self, turn: Turn, payload: str) -> None:
        """/start, or a deep link that carries a redeem code: t.me/<bot>?start=redeem-<code>."""
        if payload.startswith(REDEEM_LINK_PREFIX):
            self._redeem.code_given(turn, payload[len(REDEEM_LINK_PREFIX):])
        else:
            self._menu.start(turn, payload)
