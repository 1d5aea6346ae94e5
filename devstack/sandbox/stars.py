"""Telegram Stars in the sandbox: the invoice and payment methods (validated like the rest), the bot's Star
history, the menu button, and a payment simulation: a pre-checkout query posted to the bot, and when the
bot says yes, the Stars moved and a successful payment posted; refunds take them back, once per charge.

The methods register themselves in the method table (`methods.METHODS`) when this module is imported."""
from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from devstack.sandbox.methods import CHAT_ID, METHODS, SEND_OPTIONS, MethodSpec
from devstack.sandbox.params import PARAM_PARSERS, Param
from devstack.sandbox.responses import BadRequest

if TYPE_CHECKING:
    from devstack.sandbox.chat import ChatRelay, ChatUser
    from devstack.sandbox.state import SandboxState

INVOICE_LINK_PREFIX = "https://t.me/$"
PRE_CHECKOUT_WAIT_SECONDS = 10      # Telegram's own limit for answering a pre-checkout query
MAX_STARS = 100_000


class StarsBook:
    """Invoices sent, charges made and refunded, pre-checkout answers and the bot's Star history."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.invoices: dict[str, dict[str, Any]] = {}      # by slug (links) and by payload (chat invoices)
            self.charges: dict[str, dict[str, Any]] = {}
            self.answers: dict[str, dict[str, Any]] = {}
            self.menu_buttons: dict[str, dict[str, Any]] = {}  # by chat id ("default" for every chat)
            self.history: list[dict[str, Any]] = []            # newest first, as getStarTransactions
            self.token: str | None = None                      # the bot's, to sign Mini App init data with

    def add_invoice(self, params: dict[str, Any]) -> str:
        slug = uuid.uuid4().hex[:16]
        with self._lock:
            self.invoices[slug] = self.invoices[params["payload"]] = dict(params)
        return slug

    def invoice(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.invoices.get(key.removeprefix(INVOICE_LINK_PREFIX))
            return dict(found) if found else None

    def answer(self, query_id: str, ok: bool, error_message: str | None) -> None:
        with self._lock:
            if query_id in self.answers:
                raise BadRequest("QUERY_ID_INVALID")
            self.answers[query_id] = {"ok": ok, "error_message": error_message}
            self._lock.notify_all()

    def wait_answer(self, query_id: str, seconds: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + seconds
        with self._lock:
            while query_id not in self.answers and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            return self.answers.get(query_id)

    def charge(self, user_id: int, amount: int, payload: str) -> str:
        charge_id = f"stxsandbox{uuid.uuid4().hex[:20]}"
        with self._lock:
            self.charges[charge_id] = {"user_id": user_id, "amount": amount, "payload": payload, "refunded": False}
            self._record(amount, source={"type": "user", "transaction_type": "invoice_payment",
                                         "user": {"id": user_id}, "invoice_payload": payload}, id=charge_id)
        return charge_id

    def refund(self, user_id: int, charge_id: str) -> int:
        with self._lock:
            charge = self.charges.get(charge_id)
            if charge is None or charge["user_id"] != user_id:
                raise BadRequest("CHARGE_NOT_FOUND")
            if charge["refunded"]:
                raise BadRequest("CHARGE_ALREADY_REFUNDED")
            charge["refunded"] = True
            self._record(charge["amount"], receiver={"type": "user", "user": {"id": user_id}}, id=charge_id)
            return charge["amount"]

    def gift(self, user_id: int, stars: int, months: int) -> None:
        with self._lock:
            self._record(stars, receiver={"type": "user", "transaction_type": "premium_purchase",
                                          "user": {"id": user_id}, "premium_subscription_duration": months})

    def transactions(self, offset: int, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(item) for item in self.history[offset:offset + limit]]

    def _record(self, amount: int, **about: Any) -> None:
        self.history.insert(0, {"id": about.pop("id", uuid.uuid4().hex), "amount": amount,
                                "date": int(time.time()), **about})


def stars_of(state: SandboxState) -> StarsBook:
    book = getattr(state, "stars", None)
    if book is None:
        book = state.stars = StarsBook()  # type: ignore[attr-defined]
    return book


# --- the methods ----------------------------------------------------------------------------------


def parse_object_array(name: str, items: Any) -> list[dict[str, Any]]:
    """An Array of Objects (an invoice's prices), as JSON or, from a form, as JSON text."""
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError:
            raise BadRequest(f"can't parse {name} JSON object") from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadRequest(f'field "{name}" must be an Array of Objects')
    return items


PARAM_PARSERS["object_array"] = parse_object_array


def require_stars_invoice(params: dict[str, Any]) -> None:
    """Telegram's rules for an invoice in Stars (the only currency this shop invoices)."""
    if not 1 <= len(params["title"]) <= 32:
        raise BadRequest("INVOICE_TITLE_INVALID" if params["title"] else "parameter \"title\" is required")
    if not 1 <= len(params["description"]) <= 255:
        raise BadRequest("INVOICE_DESCRIPTION_INVALID")
    if not 1 <= len(params["payload"].encode()) <= 128:
        raise BadRequest("INVOICE_PAYLOAD_INVALID")
    if params["currency"] != "XTR":
        raise BadRequest("CURRENCY_INVALID: the sandbox sells in Telegram Stars (XTR) only")
    if params.get("provider_token"):
        raise BadRequest("PROVIDER_TOKEN_INVALID: payments in Telegram Stars take no provider token")
    prices = params["prices"]
    if not isinstance(prices, list) or len(prices) != 1 or not isinstance(prices[0], dict):
        raise BadRequest("prices must hold exactly one LabeledPrice for payments in Telegram Stars")
    amount, label = prices[0].get("amount"), prices[0].get("label")
    if not isinstance(label, str) or not label:
        raise BadRequest("LabeledPrice label must be a non-empty String")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_STARS:
        raise BadRequest("CURRENCY_TOTAL_AMOUNT_INVALID")


def require_answer_reason(params: dict[str, Any]) -> None:
    if not params["ok"] and not params.get("error_message"):
        raise BadRequest("error_message is required when ok is false")


def require_menu_button(params: dict[str, Any]) -> None:
    button = params.get("menu_button")
    if button is None:
        return
    kind = button.get("type")
    if kind not in ("commands", "web_app", "default"):
        raise BadRequest("can't parse menu button: unsupported type")
    if kind == "web_app":
        web_app = button.get("web_app")
        if not isinstance(button.get("text"), str) or not button["text"]:
            raise BadRequest("can't parse menu button: text is required")
        if not isinstance(web_app, dict) or not str(web_app.get("url", "")).startswith(("https://", "http://")):
            raise BadRequest("BUTTON_URL_INVALID")


def answer_send_invoice(state: SandboxState, params: dict[str, Any], token: str) -> dict[str, Any]:
    from devstack.sandbox.methods import build_message

    stars_of(state).token = token
    stars_of(state).add_invoice(params)
    invoice = {"title": params["title"], "description": params["description"], "currency": "XTR",
               "total_amount": params["prices"][0]["amount"], "start_parameter": ""}
    message = build_message(token, params["chat_id"], state.next_message_id(), invoice=invoice)
    stars = params["prices"][0]["amount"]
    text = f"🧾 {params['title']}: {stars} ⭐ (invoice {params['payload']})"
    # An invoice's first button pays it; the web chat's "pay" carries the invoice it pays.
    pay = {"inline_keyboard": [[{"text": f"Pay ⭐{stars}", "pay": params["payload"]}]]}
    state.chat_bot_message(message, text, None, pay)
    return message


def answer_invoice_link(state: SandboxState, params: dict[str, Any], token: str) -> str:
    stars_of(state).token = token
    return INVOICE_LINK_PREFIX + stars_of(state).add_invoice(params)


def answer_pre_checkout(state: SandboxState, params: dict[str, Any], token: str) -> bool:
    stars_of(state).answer(params["pre_checkout_query_id"], params["ok"], params.get("error_message"))
    return True


def answer_refund(state: SandboxState, params: dict[str, Any], token: str) -> bool:
    amount = stars_of(state).refund(params["user_id"], params["telegram_payment_charge_id"])
    state.spend_stars(amount)
    return True


def answer_menu_button(state: SandboxState, params: dict[str, Any], token: str) -> bool:
    book = stars_of(state)
    book.token = token
    book.menu_buttons[str(params.get("chat_id", "default"))] = params.get("menu_button") or {}
    return True


INVOICE_PARAMS = {"title": Param("string", required=True), "description": Param("string", required=True),
                  "payload": Param("string", required=True), "currency": Param("string", required=True),
                  "prices": Param("object_array", required=True), "provider_token": Param("string"),
                  "photo_url": Param("string")}

STARS_METHOD_SPECS = [
    MethodSpec("sendInvoice", {"chat_id": CHAT_ID, **INVOICE_PARAMS, **SEND_OPTIONS}, answer_send_invoice,
               checks=(require_stars_invoice,)),
    MethodSpec("createInvoiceLink", INVOICE_PARAMS, answer_invoice_link, checks=(require_stars_invoice,)),
    MethodSpec("answerPreCheckoutQuery", {"pre_checkout_query_id": Param("string", required=True),
                                          "ok": Param("boolean", required=True), "error_message": Param("string")},
               answer_pre_checkout, checks=(require_answer_reason,)),
    MethodSpec("refundStarPayment", {"user_id": Param("integer", required=True),
                                     "telegram_payment_charge_id": Param("string", required=True)}, answer_refund),
    MethodSpec("getStarTransactions", {"offset": Param("integer"), "limit": Param("integer")},
               lambda state, params, token: {"transactions": stars_of(state).transactions(
                   max(params.get("offset", 0), 0), min(max(params.get("limit", 100), 1), 100))}),
    MethodSpec("setChatMenuButton", {"chat_id": Param("integer"), "menu_button": Param("object")},
               answer_menu_button, checks=(require_menu_button,)),
]
METHODS.update({spec.name.lower(): spec for spec in STARS_METHOD_SPECS})
_gift = METHODS["giftpremiumsubscription"]


def answer_gift_with_history(state: SandboxState, params: dict[str, Any], token: str) -> Any:
    """A gift as before, and in the bot's Star history as Telegram records it (a premium purchase)."""
    answer = _gift.answer(state, params, token)
    stars_of(state).gift(params["user_id"], params["star_count"], params["month_count"])
    return answer


METHODS["giftpremiumsubscription"] = dataclasses.replace(_gift, answer=answer_gift_with_history)


# --- a buyer paying -------------------------------------------------------------------------------


def pay_invoice(relay: ChatRelay, user: ChatUser, invoice_key: str) -> dict[str, Any]:
    """What a buyer's "Pay" does: the pre-checkout query to the bot, and once it says yes within ten seconds,
    the Stars leave the buyer (the bot's balance grows) and the successful payment follows."""
    book = stars_of(relay.state)
    invoice = book.invoice(invoice_key)
    if invoice is None:
        raise ValueError("no such invoice")
    amount, payload = invoice["prices"][0]["amount"], invoice["payload"]
    query_id = uuid.uuid4().hex
    relay.deliver({"update_id": relay.state.next_update_id(), "pre_checkout_query": {
        "id": query_id, "from": user.as_json(), "currency": "XTR", "total_amount": amount,
        "invoice_payload": payload}})
    answer = book.wait_answer(query_id, PRE_CHECKOUT_WAIT_SECONDS)
    if answer is None or not answer["ok"]:
        return {"status": "failed", "error_message": (answer or {}).get("error_message") or "no answer in time"}
    charge_id = book.charge(user.user_id, amount, payload)
    relay.state.set_star_balance(relay.state.star_balance + amount)
    delivered = send_successful_payment(relay, user, charge_id)
    return {"status": "paid", "charge_id": charge_id, "delivered": delivered}


def send_successful_payment(relay: ChatRelay, user: ChatUser, charge_id: str) -> dict[str, Any]:
    """The service message a payment leaves in the chat; sent again, it is what a replayed update looks like."""
    charge = stars_of(relay.state).charges.get(charge_id)
    if charge is None:
        raise ValueError("no such charge")
    message = {"message_id": relay.state.next_message_id(), "from": user.as_json(), "chat": user.chat(),
               "date": int(time.time()), "successful_payment": {
                   "currency": "XTR", "total_amount": charge["amount"], "invoice_payload": charge["payload"],
                   "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": charge_id}}
    return relay.deliver({"update_id": relay.state.next_update_id(), "message": message})
