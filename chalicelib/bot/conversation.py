"""The buyer's conversation: one parsed update and the chat's state in, Bot API calls out.

This module only routes: a command, a callback's verb or the text typed at a step goes to its flow in
`chalicelib.bot.flows`. Most screens are stateless: each button carries what it needs in its callback
data (months, recipient, order id, page), so an old button still does something sensible. State is kept
only while the bot waits for typed input: a recipient's @username, a redeem code, or an amount to top up.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from chalicelib.bot import verbs
from chalicelib.bot.flows.buy import BuyFlow
from chalicelib.bot.flows.language import LanguageFlow
from chalicelib.bot.flows.menu import MenuFlow
from chalicelib.bot.flows.orders import OrdersFlow
from chalicelib.bot.flows.redeem import LINK_PREFIX as REDEEM_LINK_PREFIX, RedeemFlow
from chalicelib.bot.flows.tron import AWAIT_TRON_ADDRESS, TronFlow, TronShop
from chalicelib.bot.flows.wallet import WalletFlow
from chalicelib.bot.ports import Redeemer, Shop, Wallet
from chalicelib.bot.turn import AWAIT_CODE, AWAIT_RECIPIENT, AWAIT_TOP_UP, STEP_TTL_SECONDS, Call, Turn
from chalicelib.bot.updates import CALLBACK, MESSAGE, USERS_SHARED, Incoming
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ports.bot import ChatState
from chalicelib.domain.ports.people import UserStore

Handler = Callable[[Turn, str], None]   # the turn, and a command's arguments, a verb's rest or typed text


class Conversation:
    def __init__(self, shop: Shop, wallet: Wallet, directory: UserStore, redeemer: Redeemer | None,
                 once: Callable[[str, int], bool], *, amount_places: int, surcharge_cap_micros: int,
                 store_url: str | None = None, tron: TronShop | None = None) -> None:
        self._shop = shop   # the one Shop every flow drives; the end-to-end tests stub it here
        self._menu = menu = MenuFlow(store_url)
        money = {"amount_places": amount_places, "surcharge_cap_micros": surcharge_cap_micros}
        self._buy = buy = BuyFlow(shop, wallet, directory, once, **money)
        self._redeem = redeem = RedeemFlow(redeemer)
        orders = OrdersFlow(shop, amount_places=amount_places)
        language = LanguageFlow(directory)
        funds = WalletFlow(shop, wallet, once, **money)
        self._commands: dict[str, Handler] = {
            "start": self._start, "help": menu.help, "cancel": menu.cancel, "orders": orders.first_page,
            "redeem": redeem.command, "language": language.picker, "balance": funds.show}
        self._typed: dict[str | None, Handler] = {AWAIT_CODE: redeem.code_given, AWAIT_RECIPIENT: buy.username_typed,
                                                  AWAIT_TOP_UP: funds.amount_typed}
        self._callbacks: dict[str, Handler] = {
            verbs.MENU: menu.menu, verbs.HELP: menu.help,
            verbs.BUY: buy.choose_months, verbs.MONTHS: buy.months_chosen, verbs.RECIPIENT: buy.recipient_chosen,
            verbs.CONFIRM: buy.confirm, verbs.PAY_FROM_BALANCE: buy.pay_from_balance,
            verbs.TOP_UP_DIFFERENCE: buy.top_up_difference, verbs.PAY_WITH_STARS: buy.pay_with_stars,
            verbs.ORDERS: orders.page, verbs.ORDER: orders.details, verbs.CHECK: orders.check,
            verbs.CANCEL_ORDER: orders.cancel,
            verbs.WALLET: funds.show, verbs.HISTORY: funds.history, verbs.TOP_UP: funds.ask_amount,
            verbs.TOP_UP_AMOUNT: funds.amount_chosen,
            verbs.REDEEM: redeem.ask,
            verbs.LANGUAGE: language.picker, verbs.SET_LANGUAGE: language.choose}
        if tron is not None:
            self._add_tron(TronFlow(tron, amount_places=amount_places))

    def _add_tron(self, flow: TronFlow) -> None:
        """Energy and the TRX exchange (flows/tron.py): their command, buttons and the typed address."""
        self._commands["energy"] = flow.energy
        self._typed[AWAIT_TRON_ADDRESS] = flow.address_typed
        self._callbacks.update({verbs.ENERGY: flow.energy, verbs.ENERGY_PACKAGE: flow.package_chosen,
                                verbs.ENERGY_STARS: flow.package_chosen_with_stars,
                                verbs.EXCHANGE: flow.exchange, verbs.EXCHANGE_AMOUNT: flow.amount_chosen})

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
