"""The buyer's conversation: one parsed update and the chat's state in, Bot API calls out.

Most screens are stateless: each button carries what it needs in its callback data (months, recipient,
order id, page), so an old button still does something sensible. State is kept only while the bot waits
for typed input: a recipient's @username, or a redeem code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from chalicelib.domain.bot import views
from chalicelib.domain.bot.ports import Redeemer, Shop
from chalicelib.domain.ports.bot import ChatState
from chalicelib.domain.ports.people import UserStore
from chalicelib.domain.bot.updates import CALLBACK, MESSAGE, USERS_SHARED, Incoming
from chalicelib.domain.products.premium import PREMIUM_TERMS, term_for_months
from chalicelib.domain.errors import DomainError, NotFound, RateLimited
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.users import owner_for_user
from chalicelib.i18n import LANGUAGES, escape, text

AWAIT_RECIPIENT = "await_recipient"
AWAIT_CODE = "await_code"
STEP_TTL_SECONDS = 3600
CONFIRM_TTL_SECONDS = 3600
ORDERS_PER_PAGE = 5
MAX_ORDER_PAGES = 40
REMEMBERED_NAMES = 5
USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
CODE = re.compile(r"^[A-Za-z0-9-]{4,40}$")
REDEEM_LINK_PREFIX = "redeem-"
REDEEM_ERRORS = {"CODE_NOT_FOUND": "redeem.not_found", "CODE_USED_UP": "redeem.used_up",
                 "CODE_INACTIVE": "redeem.inactive", "ALREADY_REDEEMED": "redeem.already",
                 "CODE_EXPIRED": "redeem.expired", "VALIDATION_FAILED": "redeem.invalid",
                 "INVALID_CODE": "redeem.invalid", "CODE_MALFORMED": "redeem.invalid"}


@dataclass(frozen=True)
class Call:
    """One Bot API call. An edit carries `fallback`, sent instead when the message cannot be edited."""

    method: str
    params: dict[str, Any]
    fallback: Call | None = None


def _stamp(now: datetime, update_id: int) -> str:
    """When and by which update a confirmation was rendered: "<seconds>.<update>" in base 36. Each
    rendering gets its own stamp; both taps of a double tap carry the same one."""
    return f"{_base36(int(now.timestamp()))}.{_base36(update_id % 36 ** 4)}"


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, remainder = divmod(number, 36)
        out = digits[remainder] + out
        if not number:
            return out


class Turn:
    """One update being answered: the replies it produces, in order."""

    def __init__(self, incoming: Incoming, state: ChatState, now: datetime) -> None:
        self.incoming = incoming
        self.state = state
        self.now = now
        self.lang = state.language or "en"
        self.calls: list[Call] = []
        self.answer_params: dict[str, Any] | None = None

    @property
    def user_id(self) -> int:
        return self.incoming.user.user_id  # type: ignore[union-attr]

    @property
    def owner(self) -> str:
        return owner_for_user(self.user_id)

    def t(self, key: str, **values: Any) -> str:
        return text(self.lang, key, **values)

    def send(self, body: str, markup: dict[str, Any] | None = None) -> None:
        params: dict[str, Any] = {"chat_id": self.incoming.chat_id, "text": views.clip(body), "parse_mode": "HTML"}
        if markup is not None:
            params["reply_markup"] = markup
        self.calls.append(Call("sendMessage", params))

    def show(self, body: str, markup: dict[str, Any] | None = None) -> None:
        """Edit the message a tapped button sits on; for a typed command, send a new message."""
        if self.incoming.kind != CALLBACK or self.incoming.message_id is None:
            self.send(body, markup)
            return
        params: dict[str, Any] = {"chat_id": self.incoming.chat_id, "message_id": self.incoming.message_id,
                                  "text": views.clip(body), "parse_mode": "HTML"}
        if markup is not None:
            params["reply_markup"] = markup
        fallback = {key: value for key, value in params.items() if key != "message_id"}
        self.calls.append(Call("editMessageText", params, Call("sendMessage", fallback)))

    def answer(self, body: str | None = None, alert: bool = False) -> None:
        params: dict[str, Any] = {"callback_query_id": self.incoming.callback_id}
        if body:
            params["text"] = body[:200]
            if alert:
                params["show_alert"] = True
        self.answer_params = params

    def finish(self) -> list[Call]:
        if self.incoming.kind == CALLBACK:
            # Answer first: it stops the button's spinner; the edits follow.
            return [Call("answerCallbackQuery", self.answer_params or
                         {"callback_query_id": self.incoming.callback_id}), *self.calls]
        return self.calls

    def set_step(self, step: str | None, **data: Any) -> None:
        self.state.step = step
        self.state.step_at = int(self.now.timestamp()) if step else 0
        names = self.state.data.get("names")
        self.state.data = {**({"names": names} if names else {}), **data}


class Conversation:
    def __init__(self, shop: Shop, directory: UserStore, redeemer: Redeemer | None,
                 once: Callable[[str, int], bool], *, amount_places: int) -> None:
        self._shop = shop
        self._directory = directory
        self._redeemer = redeemer
        self._once = once
        self._places = amount_places

    def handle(self, incoming: Incoming, state: ChatState, now: datetime) -> list[Call]:
        if state.step and int(now.timestamp()) - state.step_at > STEP_TTL_SECONDS:
            state.step, state.step_at = None, 0
        turn = Turn(incoming, state, now)
        if incoming.kind == CALLBACK:
            self._on_callback(turn)
        elif incoming.kind == USERS_SHARED:
            self._on_users_shared(turn)
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

    # ------------------------------------------------------------------ messages
    def _on_message(self, turn: Turn) -> None:
        incoming = turn.incoming
        command = incoming.command
        if command == "start":
            turn.set_step(None)
            if incoming.args.startswith(REDEEM_LINK_PREFIX):
                self._redeem(turn, incoming.args[len(REDEEM_LINK_PREFIX):])
                return
            name = escape(incoming.user.display_name if incoming.user else "")
            turn.send(turn.t("start.greeting", name=name) + "\n\n" + turn.t("menu.title"),
                      views.main_menu(turn.lang))
        elif command == "orders":
            self._orders_page(turn, 0)
        elif command == "redeem":
            if incoming.args:
                turn.set_step(None)
                self._redeem(turn, incoming.args)
            else:
                turn.set_step(AWAIT_CODE)
                turn.send(turn.t("redeem.ask"))
        elif command == "help":
            turn.send(turn.t("help.text"), views.menu_only(turn.lang))
        elif command == "language":
            turn.send(turn.t("language.choose"), views.language_picker(turn.lang))
        elif command == "cancel":
            self._cancel_step(turn)
        elif command is None and turn.state.step == AWAIT_CODE and incoming.text.strip():
            turn.set_step(None)
            self._redeem(turn, incoming.text)
        elif command is None and turn.state.step == AWAIT_RECIPIENT and incoming.text.strip():
            self._recipient_by_username(turn, incoming.text.strip())
        else:
            turn.send(turn.t("unknown.hint"))

    def _cancel_step(self, turn: Turn) -> None:
        step = turn.state.step
        turn.set_step(None)
        if step is None:
            turn.send(turn.t("cancel.nothing"), views.main_menu(turn.lang))
            return
        if step == AWAIT_RECIPIENT:
            turn.send(turn.t("cancel.done"), {"remove_keyboard": True})
            turn.send(turn.t("menu.title"), views.main_menu(turn.lang))
        else:
            turn.send(turn.t("cancel.done") + "\n\n" + turn.t("menu.title"), views.main_menu(turn.lang))

    def _recipient_by_username(self, turn: Turn, typed: str) -> None:
        match = USERNAME.match(typed)
        if not match:
            turn.send(turn.t("buy.bad_username"))
            return
        username = match.group(1)
        recipient_id = self._directory.find_by_username(username)
        if recipient_id is None:
            turn.send(turn.t("buy.unknown_username", username=escape("@" + username)))
            return
        months = int(turn.state.data.get("months") or 0)
        turn.set_step(None)
        self._recipient_chosen(turn, months, recipient_id, "@" + username)

    def _on_users_shared(self, turn: Turn) -> None:
        incoming = turn.incoming
        months = incoming.request_id or 0
        if months not in {product.month_count for product in PREMIUM_TERMS.values()} or not incoming.shared:
            turn.send(turn.t("callback.stale"), {"remove_keyboard": True})
            return
        shared = incoming.shared[0]
        turn.set_step(None)
        self._recipient_chosen(turn, months, shared.user_id, shared.display_name)

    def _recipient_chosen(self, turn: Turn, months: int, recipient_id: int, name: str) -> None:
        label = escape(name)
        names = {**turn.state.data.get("names", {}), str(recipient_id): label}
        turn.state.data["names"] = dict(list(names.items())[-REMEMBERED_NAMES:])
        turn.send(turn.t("buy.recipient_chosen", recipient=label), {"remove_keyboard": True})
        self._confirmation(turn, months, recipient_id, send=True)

    # ------------------------------------------------------------------ callbacks
    def _on_callback(self, turn: Turn) -> None:
        verb, _, rest = turn.incoming.data.partition(":")
        handler = {views.MENU: self._cb_menu, views.BUY: self._cb_buy, "mo": self._cb_months,
                   "to": self._cb_recipient, "ok": self._cb_confirm, "chk": self._cb_check,
                   "cx": self._cb_cancel, views.ORDERS: self._cb_orders, "od": self._cb_order,
                   views.REDEEM: self._cb_redeem, views.HELP: self._cb_help, views.LANGUAGE: self._cb_language,
                   "lg": self._cb_set_language}.get(verb)
        if handler is None:
            turn.answer(turn.t("callback.stale"))
            return
        try:
            handler(turn, rest)
        except (ValueError, NotFound):
            turn.answer(turn.t("callback.stale"))

    def _cb_menu(self, turn: Turn, _: str) -> None:
        if turn.state.step == AWAIT_RECIPIENT:
            turn.send(turn.t("cancel.done"), {"remove_keyboard": True})
        turn.set_step(None)
        turn.show(turn.t("menu.title"), views.main_menu(turn.lang))

    def _cb_buy(self, turn: Turn, _: str) -> None:
        turn.show(turn.t("buy.choose_months"), views.months_picker(self._shop.offers(), turn.lang))

    def _cb_months(self, turn: Turn, rest: str) -> None:
        months = term_for_months(int(rest)).month_count
        turn.show(turn.t("buy.choose_recipient", months=months), views.recipient_picker(months, turn.lang))

    def _cb_recipient(self, turn: Turn, rest: str) -> None:
        months_text, _, who = rest.partition(":")
        months = term_for_months(int(months_text)).month_count
        if who == "me":
            self._confirmation(turn, months, turn.user_id, send=False)
        elif who == "other":
            turn.set_step(AWAIT_RECIPIENT, months=months)
            turn.send(turn.t("buy.ask_recipient"), views.recipient_keyboard(months, turn.lang))
        else:
            raise ValueError(who)

    def _confirmation(self, turn: Turn, months: int, recipient_id: int, *, send: bool,
                      notice: str | None = None) -> None:
        offer = self._shop.offer(term_for_months(months).product_id)
        label = turn.t("recipient.myself") if recipient_id == turn.user_id else \
            turn.state.data.get("names", {}).get(str(recipient_id)) or turn.t("recipient.user", user_id=recipient_id)
        body, markup = views.confirmation(months, recipient_id, label, offer.price_micros,
                                          _stamp(turn.now, turn.incoming.update_id), turn.lang)
        if notice:
            body = notice + "\n\n" + body
        (turn.send if send else turn.show)(body, markup)

    def _cb_confirm(self, turn: Turn, rest: str) -> None:
        months_text, recipient_text, stamp = rest.split(":")
        months, recipient_id = int(months_text), int(recipient_text)
        product = term_for_months(months)
        if int(turn.now.timestamp()) - int(stamp.split(".")[0], 36) > CONFIRM_TTL_SECONDS:
            turn.answer(turn.t("buy.confirm_expired"))
            turn.show(turn.t("buy.confirm_expired"), views.main_menu(turn.lang))
            return
        # Two fast taps (or a tap and its retry) carry the same stamp: only the first one orders.
        if not self._once(f"confirm#{turn.incoming.chat_id}#{months}#{recipient_id}#{stamp}",
                          2 * CONFIRM_TTL_SECONDS):
            turn.answer(turn.t("buy.already_confirmed"))
            return
        try:
            order = self._shop.create_premium(turn.user_id, product.product_id, recipient_id, turn.lang)
        except RateLimited as error:
            key = "buy.too_many_open" if error.code == "TOO_MANY_OPEN_ORDERS" else "buy.unavailable"
            message = turn.t(key, count=_open_limit(error))
            turn.answer(message, alert=True)
            self._confirmation(turn, months, recipient_id, send=False, notice=message)
            return
        except DomainError as error:
            message = turn.t("buy.unavailable" if error.code == "NO_PAYMENT_SLOT" else "buy.not_available")
            turn.answer(message, alert=True)
            self._confirmation(turn, months, recipient_id, send=False, notice=message)
            return
        if turn.incoming.message_id is not None:
            self._shop.remember_message(order.order_id, turn.incoming.message_id)
        body, markup = views.payment_message(order, turn.lang, turn.now, self._places, turn.state.data.get("names"))
        turn.show(body, markup)

    def _owned(self, turn: Turn, order_id: str) -> Order | None:
        try:
            return self._shop.get_owned(order_id, turn.owner)
        except NotFound:
            turn.answer(turn.t("order.not_found"))
            return None

    def _cb_check(self, turn: Turn, order_id: str) -> None:
        order = self._owned(turn, order_id)
        if order is None:
            return
        if order.status == OrderStatus.PENDING and views.minutes_left(order, turn.now) > 0:
            turn.answer(turn.t("pay.not_yet"))
            turn.show(*views.payment_message(order, turn.lang, turn.now, self._places, turn.state.data.get("names")))
            return
        turn.answer(views.status_name(order.status, turn.lang))
        turn.show(*views.status_message(order, turn.lang, self._places))

    def _cb_cancel(self, turn: Turn, order_id: str) -> None:
        order = self._owned(turn, order_id)
        if order is None:
            return
        try:
            cancelled = self._shop.cancel(order_id, turn.owner)
        except DomainError:
            current = self._shop.get_owned(order_id, turn.owner)
            turn.answer(turn.t("order.cannot_cancel", status=views.status_name(current.status, turn.lang)), alert=True)
            turn.show(*views.status_message(current, turn.lang, self._places))
            return
        turn.answer(turn.t("cancel.done"))
        turn.show(*views.status_message(cancelled, turn.lang, self._places))

    def _cb_orders(self, turn: Turn, rest: str) -> None:
        self._orders_page(turn, int(rest or 0))

    def _orders_page(self, turn: Turn, page: int) -> None:
        page = max(0, min(page, MAX_ORDER_PAGES))
        wanted = ORDERS_PER_PAGE * (page + 1) + 1  # one more than the page shows: is there a next page?
        orders: list[Order] = []
        cursor = None
        while len(orders) < wanted:
            result = self._shop.list_owned(turn.owner, wanted - len(orders), cursor)
            orders.extend(result.items)
            cursor = result.cursor
            if cursor is None:
                break
        shown = orders[ORDERS_PER_PAGE * page:ORDERS_PER_PAGE * (page + 1)]
        if not shown and page > 0:
            turn.answer(turn.t("callback.stale"))
            page, shown = 0, orders[:ORDERS_PER_PAGE]
        turn.show(*views.orders_page(shown, page, len(orders) > ORDERS_PER_PAGE * (page + 1), turn.lang,
                                     self._places))

    def _cb_order(self, turn: Turn, rest: str) -> None:
        order_id, _, page = rest.partition(":")
        order = self._owned(turn, order_id)
        if order is not None:
            turn.show(*views.order_details(order, turn.lang, self._places, int(page or 0), turn.now))

    def _cb_redeem(self, turn: Turn, _: str) -> None:
        turn.set_step(AWAIT_CODE)
        turn.show(turn.t("redeem.ask"), views.inline([views.button(turn.t("button.cancel"), views.MENU)]))

    def _cb_help(self, turn: Turn, _: str) -> None:
        turn.show(turn.t("help.text"), views.menu_only(turn.lang))

    def _cb_language(self, turn: Turn, _: str) -> None:
        turn.show(turn.t("language.choose"), views.language_picker(turn.lang))

    def _cb_set_language(self, turn: Turn, code: str) -> None:
        if code not in LANGUAGES:
            raise ValueError(code)
        self._directory.set_language(turn.user_id, code)
        turn.state.language = turn.lang = code
        turn.answer(turn.t("language.set"))
        turn.show(turn.t("language.set") + "\n\n" + turn.t("menu.title"), views.main_menu(code))

    # ------------------------------------------------------------------ redeem
    def _redeem(self, turn: Turn, raw_code: str) -> None:
        code = raw_code.strip().upper()
        redeemer = self._redeemer
        if redeemer is None:
            turn.send(turn.t("redeem.unavailable"), views.menu_only(turn.lang))
            return
        if not CODE.match(code):
            turn.send(turn.t("redeem.invalid"))
            return
        try:
            result = redeemer.redeem(turn.user_id, code, None)  # Telegram tells us no IP: the user limit applies
        except RateLimited as error:
            turn.send(turn.t("redeem.rate_limited", seconds=error.retry_after or 60))
            return
        except DomainError as error:
            turn.send(turn.t(REDEEM_ERRORS.get(error.code, "redeem.failed")))
            return
        turn.send(turn.t("redeem.success", months=_months_of(result)), views.menu_only(turn.lang))


def _months_of(result: Any) -> Any:
    for name in ("months", "month_count"):
        value = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
        if value:
            return value
    return "?"


def _open_limit(error: DomainError) -> Any:
    return error.details.get("limit", "?")
