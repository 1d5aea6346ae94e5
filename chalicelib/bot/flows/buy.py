"""Buying Premium: months, then the recipient (myself, a shared contact or a typed @username), then a
confirmation whose Confirm button places the order and turns the message into the payment message. A wallet
that holds the price pays it at once ("Pay with balance"); one that holds less offers a top-up of the
difference that buys the same Premium from the balance once it is paid.

Every step's button carries what it needs (months, recipient, a stamp), so an old button still does
something sensible. What is on sale, and at what price, comes from the `Shop`; this flow only knows that
an offer lasts some months (its `month_count` fact).
"""
from __future__ import annotations

import re
from typing import Any, Callable

from pydantic import ValidationError

from chalicelib.bot import views
from chalicelib.bot.placing import OrderGate, refusal, stamp
from chalicelib.bot.ports import Shop, Wallet
from chalicelib.bot.turn import AWAIT_RECIPIENT, Call, Turn
from chalicelib.bot.verbs import FOR_ME, FOR_OTHER, PAY_WITH_STARS, SEPARATOR, data, integer
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.orders import Order
from chalicelib.domain.payment_methods.balance import InsufficientBalance
from chalicelib.domain.ports.people import UserStore
from chalicelib.domain.products import Offer
from chalicelib.domain.products.premium import PremiumChoice
from chalicelib.i18n import escape

REMEMBERED_NAMES = 5
USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")


class BuyFlow:
    def __init__(self, shop: Shop, wallet: Wallet, directory: UserStore, once: Callable[[str, int], bool], *,
                 amount_places: int, surcharge_cap_micros: int) -> None:
        self._shop = shop
        self._wallet = wallet
        self._directory = directory
        self._gate = OrderGate(once)
        self._places = amount_places
        self._cap = surcharge_cap_micros   # the most the identifying suffix adds to a price

    def choose_months(self, turn: Turn, _: str) -> None:
        turn.show(turn.t("buy.choose_months"), views.months_picker(self._shop.offers(), turn.lang))

    def months_chosen(self, turn: Turn, months_text: str) -> None:
        months = _months(self._offer(integer(months_text)))
        turn.show(turn.t("buy.choose_recipient", months=months), views.recipient_picker(months, turn.lang))

    def recipient_chosen(self, turn: Turn, rest: str) -> None:
        months_text, _, who = rest.partition(SEPARATOR)
        offer = self._offer(integer(months_text))
        if who == FOR_ME:
            self._confirmation(turn, offer, turn.user_id, send=False)
        elif who == FOR_OTHER:
            turn.set_step(AWAIT_RECIPIENT, months=_months(offer))
            turn.send(turn.t("buy.ask_recipient"), views.recipient_keyboard(_months(offer), turn.lang))
        else:
            raise ValueError(who)

    def username_typed(self, turn: Turn, typed: str) -> None:
        match = USERNAME.match(typed.strip())
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
        self._recipient_named(turn, months, recipient_id, "@" + username)

    def users_shared(self, turn: Turn) -> None:
        """The answer of the reply keyboard's user picker; its `request_id` is the months."""
        incoming = turn.incoming
        months = incoming.request_id or 0
        if months not in {_months(offer) for offer in self._shop.offers()} or not incoming.shared \
                or not _is_recipient(incoming.shared[0].user_id):
            turn.send(turn.t("callback.stale"), {"remove_keyboard": True})
            return
        shared = incoming.shared[0]
        turn.set_step(None)
        self._recipient_named(turn, months, shared.user_id, shared.display_name)

    def confirm(self, turn: Turn, rest: str) -> None:
        """`ok:<months>:<recipient>:<stamp>`: the order, paid by a transfer of a unique amount."""
        chosen = self._admitted(turn, rest)
        if chosen is None:
            return
        offer, recipient_id = chosen
        order = self._placed(turn, offer, recipient_id, lambda: self._shop.create_premium(
            turn.user_id, offer.product_id, recipient_id, turn.lang))
        if order is not None:
            turn.show(*views.payment_message(order, turn.lang, turn.now, self._places, turn.state.data.get("names")))

    def pay_from_balance(self, turn: Turn, rest: str) -> None:
        """`pb:<months>:<recipient>:<stamp>`: the order, paid from the wallet at once. A wallet spent in the
        meantime is told, and the confirmation shows what it offers now."""
        chosen = self._admitted(turn, rest)
        if chosen is None:
            return
        offer, recipient_id = chosen
        order = self._placed(turn, offer, recipient_id, lambda: self._shop.buy_premium_from_balance(
            turn.user_id, offer.product_id, recipient_id, turn.lang))
        if order is not None:
            turn.answer(turn.t("buy.paid_toast"))
            turn.show(*views.paid_from_balance(order, self._wallet.balance(turn.owner), turn.lang,
                                               turn.state.data.get("names")))

    def pay_with_stars(self, turn: Turn, rest: str) -> None:
        """`ps:<months>:<recipient>:<stamp>`: the order, paid with a Telegram Stars invoice sent below it."""
        chosen = self._admitted(turn, rest)
        if chosen is None:
            return
        offer, recipient_id = chosen
        invoice: dict[str, Any] = {}

        def place() -> Order:
            order, invoice["params"] = self._shop.buy_premium_with_stars(turn.user_id, offer.product_id,
                                                                         recipient_id, turn.lang)
            return order
        order = self._placed(turn, offer, recipient_id, place)
        if order is not None:
            turn.show(turn.t("stars.invoice_sent", order_id=order.order_id, stars=invoice["params"]["prices"][0]
                             ["amount"]), views.menu_only(turn.lang))
            turn.calls.append(Call("sendInvoice", {"chat_id": turn.incoming.chat_id, **invoice["params"]}))

    def top_up_difference(self, turn: Turn, rest: str) -> None:
        """`td:<months>:<recipient>:<stamp>`: a top-up of what the wallet lacks now (in whole cents), which buys
        the order from the balance once it is paid. A wallet that covers the price by now offers to pay."""
        chosen = self._admitted(turn, rest)
        if chosen is None:
            return
        offer, recipient_id = chosen
        short = views.shortfall(offer.price_micros, self._wallet.balance(turn.owner))
        if not short:
            notice = turn.t("buy.balance_covers_now")
            turn.answer(notice)
            self._confirmation(turn, offer, recipient_id, send=False, notice=notice)
            return
        order = self._placed(turn, offer, recipient_id, lambda: self._shop.top_up_for_premium(
            turn.user_id, short, offer.product_id, recipient_id, turn.lang))
        if order is not None:
            turn.show(*views.payment_message(order, turn.lang, turn.now, self._places, turn.state.data.get("names"),
                                             self._shop.texts_of(order)))

    # ------------------------------------------------------------------ steps shared by the ways in
    def _admitted(self, turn: Turn, rest: str) -> tuple[Offer, int] | None:
        """`<months>:<recipient>:<stamp>` of a button that orders, checked as strictly as `POST /orders` checks
        the same order (the recipient through the product's own choice model) before anything is claimed or
        written: a button can be forged. A ValueError or NotFound is answered as a stale button; None when the
        gate refused the stamp (too old, or this confirmation ordered already)."""
        months_text, recipient_text, stamped = rest.split(SEPARATOR)
        months, recipient_id = integer(months_text), integer(recipient_text)
        if not _is_recipient(recipient_id):
            raise ValueError(f"not a recipient: {recipient_id}")
        offer = self._offer(months)
        if not self._gate.admits(turn, f"{months}#{recipient_id}", stamped):
            return None
        return offer, recipient_id

    def _placed(self, turn: Turn, offer: Offer, recipient_id: int, place: Callable[[], Order]) -> Order | None:
        """The order `place` made, remembered with the message that shows it; None when the shop refused it,
        and the refusal is shown above a fresh confirmation."""
        try:
            order = place()
        except InsufficientBalance:   # spent since the confirmation showed it: the fresh one says what is left
            notice = turn.t("buy.balance_spent")
        except DomainError as error:
            notice = refusal(turn, error)
        else:
            if turn.incoming.message_id is not None:
                self._shop.remember_message(order.order_id, turn.incoming.message_id)
            return order
        turn.answer(notice, alert=True)
        self._confirmation(turn, offer, recipient_id, send=False, notice=notice)
        return None

    def _offer(self, months: int) -> Offer:
        """The offer lasting `months`; NotFound (a stale button) when none does."""
        for offer in self._shop.offers():
            if _months(offer) == months:
                return offer
        raise NotFound(f"no offer lasts {months} months", code="PRODUCT_NOT_FOUND")

    def _recipient_named(self, turn: Turn, months: int, recipient_id: int, name: str) -> None:
        label = escape(name)
        names = {**turn.state.data.get("names", {}), str(recipient_id): label}
        turn.state.data["names"] = dict(list(names.items())[-REMEMBERED_NAMES:])
        turn.send(turn.t("buy.recipient_chosen", recipient=label), {"remove_keyboard": True})
        self._confirmation(turn, self._offer(months), recipient_id, send=True)

    def _confirmation(self, turn: Turn, offer: Offer, recipient_id: int, *, send: bool,
                      notice: str | None = None) -> None:
        label = turn.t("recipient.myself") if recipient_id == turn.user_id else \
            turn.state.data.get("names", {}).get(str(recipient_id)) or turn.t("recipient.user", user_id=recipient_id)
        stamped = stamp(turn.now, turn.incoming.update_id)
        body, markup = views.confirmation(_months(offer), recipient_id, label, offer.price_micros, stamped,
                                          turn.lang, surcharge_cap_micros=self._cap, places=self._places,
                                          balance_micros=self._wallet.balance(turn.owner))
        stars = self._shop.star_price(offer.product_id)
        if stars is not None:   # above the last row (cancel)
            markup["inline_keyboard"].insert(-1, [views.button(turn.t("button.pay_stars", stars=stars),
                                                               data(PAY_WITH_STARS, _months(offer), recipient_id,
                                                                    stamped))])
        if notice:
            body = notice + "\n\n" + body
        (turn.send if send else turn.show)(body, markup)


def _months(offer: Offer) -> Any:
    return offer.facts.get("month_count")


def _is_recipient(user_id: int) -> bool:
    """Would the HTTP API take this recipient? The product's own choice model decides (a Telegram user id,
    positive and below 2^53)."""
    try:
        PremiumChoice.model_validate({"recipient_user_id": user_id})
    except ValidationError:
        return False
    return True
