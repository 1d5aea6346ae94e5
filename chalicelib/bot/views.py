"""How orders and menus look in Telegram, in every language. Pure: values in, text and markup out.

Used by the conversation's flows and by the notifier (which edits the payment message on status changes).
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from chalicelib.bot.verbs import (BUY, CANCEL_ORDER, CHECK, CONFIRM, ENERGY, EXCHANGE, FOR_ME, FOR_OTHER, HELP,
                                  LANGUAGE, MENU, MONTHS, ORDER, ORDERS, PAY_FROM_BALANCE, RECIPIENT, REDEEM,
                                  SET_LANGUAGE, TOP_UP_DIFFERENCE, WALLET, data)
from chalicelib.domain.money import MICROS_PER_UNIT, format_amount, places_for
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.bot.order_facts import detail_values
from chalicelib.i18n import catalog, escape, normalize, text

if TYPE_CHECKING:  # a type only: the menu and the notices load no product registry
    from chalicelib.domain.products import Offer

NETWORK_LABEL = "TRON (TRC20)"
PREMIUM_TEXTS = "premium"   # the wording of Premium, the product the bot sells; a top-up has its own
CENT_MICROS = MICROS_PER_UNIT // 100
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64


def button(label: str, callback_data: str) -> dict[str, str]:
    if not 1 <= len(callback_data.encode()) <= MAX_CALLBACK_DATA:
        raise ValueError(f"callback data {callback_data!r} does not fit Telegram's 64 bytes")
    return {"text": label, "callback_data": callback_data}


def inline(*rows: list[dict[str, str]]) -> dict[str, Any]:
    return {"inline_keyboard": [list(row) for row in rows if row]}


def clip(html_text: str) -> str:
    """Texts stay within Telegram's 4,096 characters. Ours are short; user values are clipped on the
    way in (`escape`), so this only guards against a catalog mistake, and cuts at a line end."""
    if len(html_text) <= MAX_TEXT:
        return html_text
    cut = html_text.rfind("\n", 0, MAX_TEXT - 1)
    return html_text[:cut if cut > 0 else MAX_TEXT - 1] + "…"


def amount(micros: int, places: int) -> str:
    return format_amount(micros, places)


def price(micros: int) -> str:
    return format_amount(micros, 2)


def cents(micros: int) -> int:
    """Whole cents, rounded up (a top-up counts cents)."""
    return -(-micros // CENT_MICROS)


def shortfall(price_micros: int, balance_micros: int) -> int:
    """What a top-up must bring for the wallet to hold the price, in whole cents; 0 when it holds it."""
    return max(0, cents(price_micros - balance_micros) * CENT_MICROS)


def worded(lang: str, key: str, texts: str | None) -> str:
    """The product's own wording of `key` ("pay.message" -> "pay.<texts>.message") where the catalog has it,
    the shop's wording otherwise."""
    area, _, name = key.partition(".")
    own = f"{area}.{texts}.{name}"
    return own if texts and own in catalog(lang) else key


def status_name(status: OrderStatus | str, lang: str) -> str:
    return text(lang, f"status.{OrderStatus(status).value}")


def recipient_label(order: Order, lang: str, names: dict[str, str] | None = None) -> str:
    if order.recipient_user_id is None or order.recipient_user_id == order.buyer_user_id:
        return text(lang, "recipient.myself")
    name = (names or {}).get(str(order.recipient_user_id))
    return name or text(lang, "recipient.user", user_id=order.recipient_user_id)


def main_menu(lang: str) -> dict[str, Any]:
    return inline([button(text(lang, "button.buy"), BUY)],
                  [button(text(lang, "button.energy"), ENERGY), button(text(lang, "button.exchange"), EXCHANGE)],
                  [button(text(lang, "button.wallet"), WALLET), button(text(lang, "button.orders"), data(ORDERS, 0))],
                  [button(text(lang, "button.redeem"), REDEEM)],
                  [button(text(lang, "button.help"), HELP), button(text(lang, "button.language"), LANGUAGE)])


def menu_only(lang: str) -> dict[str, Any]:
    return inline([button(text(lang, "button.menu"), MENU)])


def months_picker(offers: list[Offer], lang: str) -> dict[str, Any]:
    rows = [[button(text(lang, "button.months", months=offer.facts['month_count'], price=price(offer.price_micros)),
                    data(MONTHS, offer.facts['month_count']))] for offer in offers]
    return inline(*rows, [button(text(lang, "button.back"), MENU)])


def recipient_picker(months: int, lang: str) -> dict[str, Any]:
    return inline([button(text(lang, "button.myself"), data(RECIPIENT, months, FOR_ME)),
                   button(text(lang, "button.someone_else"), data(RECIPIENT, months, FOR_OTHER))],
                  [button(text(lang, "button.back"), BUY)])


def recipient_keyboard(months: int, lang: str) -> dict[str, Any]:
    """A reply keyboard whose button opens Telegram's user picker; `request_id` carries the months so
    the `users_shared` answer is understood even after the conversation step expired."""
    return {"keyboard": [[{"text": text(lang, "button.choose_contact"),
                           "request_users": {"request_id": months, "user_is_bot": False, "max_quantity": 1,
                                             "request_name": True, "request_username": True}}]],
            "resize_keyboard": True, "one_time_keyboard": True,
            "input_field_placeholder": "@username"}


def confirmation(months: int, recipient_id: int, recipient: str, offer_price: int, stamp: str,
                 lang: str, *, surcharge_cap_micros: int, places: int,
                 balance_micros: int = 0) -> tuple[str, dict[str, Any]]:
    """Before the order exists its suffix is not known yet: the text names the most it can add. A wallet that
    holds the price pays it at once; one that holds less offers to top up the difference and then pay."""
    body = text(lang, "buy.confirm", months=months, recipient=recipient, price=price(offer_price),
                cap=amount(surcharge_cap_micros, places))
    rows = [[button(text(lang, "button.confirm"), data(CONFIRM, months, recipient_id, stamp))]]
    if balance_micros >= offer_price:
        body += "\n\n" + text(lang, "buy.balance_covers", balance=price(balance_micros))
        rows.append([button(text(lang, "button.pay_from_balance", price=price(offer_price)),
                            data(PAY_FROM_BALANCE, months, recipient_id, stamp))])
    elif balance_micros > 0:
        short = price(shortfall(offer_price, balance_micros))
        body += "\n\n" + text(lang, "buy.balance_short", balance=price(balance_micros), short=short)
        rows.append([button(text(lang, "button.top_up_difference", short=short),
                            data(TOP_UP_DIFFERENCE, months, recipient_id, stamp))])
    rows.append([button(text(lang, "button.cancel"), MENU)])
    return body, inline(*rows)


def paid_from_balance(order: Order, balance_micros: int, lang: str,
                      names: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """An order paid from the wallet: no transfer to wait for. Status changes edit this message."""
    body = text(lang, "buy.paid_from_balance", order_id=order.order_id, months=order.month_count,
                recipient=recipient_label(order, lang, names), price=price(order.amount_micros),
                balance=price(balance_micros))
    return body, menu_only(lang)


def minutes_left(order: Order, now: datetime) -> int:
    if order.expires_at is None:
        return 0
    return max(0, math.ceil((order.expires_at - now).total_seconds() / 60))


def payment_message(order: Order, lang: str, now: datetime, places: int, names: dict[str, str] | None = None,
                    texts: str | None = PREMIUM_TEXTS) -> tuple[str, dict[str, Any]]:
    deadline = (order.expires_at or now).astimezone(timezone.utc).strftime("%H:%M")
    surcharge = order.surcharge_micros or 0
    then_buy = "\n" + text(lang, "pay.then_buy") if order.details.get("then_buy") else ""
    body = text(lang, worded(lang, "pay.message", texts), order_id=order.order_id, months=order.month_count,
                recipient=recipient_label(order, lang, names), amount=amount(order.amount_micros, places),
                price=amount(order.amount_micros - surcharge, places), surcharge=amount(surcharge, places),
                network=NETWORK_LABEL, address=order.pay_to or "", minutes=minutes_left(order, now),
                deadline=deadline, then_buy=then_buy, **detail_values(order))
    markup = inline([button(text(lang, "button.check"), data(CHECK, order.order_id))],
                    [button(text(lang, "button.cancel_order"), data(CANCEL_ORDER, order.order_id))])
    return body, markup


EVENTS = ("paid", "delivered", "delivered_recipient", "expired", "failed", "cancelled")
# Money credited to the buyer's wallet; `paid` is what was credited: a whole transfer, an overpayment's excess,
# a refund, or a top-up whose purchase could not be made.
PAYMENT_EVENTS = ("underpaid", "overpaid", "too_late", "duplicate", "refunded", "follow_on_refused", "refunded_stars")


def event_text(order: Order, event: str, lang: str, places: int, reason: str = "",
               texts: str | None = PREMIUM_TEXTS, paid_micros: int | None = None) -> str:
    """`texts`: the product's own wording (`event.<texts>.<event>`) where the catalog has it. `paid_micros`:
    what a payment event credited; any other event shows what the order was paid."""
    paid = paid_micros if paid_micros is not None else order.paid_micros or 0
    places = places_for(order.currency, places)
    values = {"order_id": order.order_id, "months": order.month_count,
              "amount": amount(order.amount_micros, places), "recipient": recipient_label(order, lang),
              "reason": escape(reason, 200), "status": status_name(order.status, lang),
              "paid": amount(paid, places), "missing": amount(max(order.amount_micros - paid, 0), places),
              **detail_values(order)}
    key = worded(lang, f"event.{event}" if event in EVENTS + PAYMENT_EVENTS else "event.status", texts)
    body = text(lang, key, **values)
    if event == "expired":
        body += "\n" + text(lang, "pay.expired_hint", amount=values["amount"])
    return body


def status_message(order: Order, lang: str, places: int,
                   texts: str | None = PREMIUM_TEXTS) -> tuple[str, dict[str, Any]]:
    """What the payment message becomes once the order is no longer waiting for payment."""
    event = {OrderStatus.PAID: "paid", OrderStatus.PAID_LATE: "paid", OrderStatus.DELIVERED: "delivered",
             OrderStatus.EXPIRED: "expired", OrderStatus.FAILED: "failed",
             OrderStatus.CANCELLED: "cancelled"}.get(order.status, "status")
    return event_text(order, event, lang, places, order.failure_reason or "", texts), menu_only(lang)


def order_button(order: Order, lang: str, places: int, page: int,
                 texts: str | None = PREMIUM_TEXTS) -> dict[str, str]:
    label = text(lang, worded(lang, "button.order_item", texts), months=order.month_count or "?",
                 amount=amount(order.amount_micros, places), status=status_name(order.status, lang),
                 **detail_values(order))
    return button(label, data(ORDER, order.order_id, page))


def orders_page(orders: list[Order], page: int, has_next: bool, lang: str, places: int,
                texts_of: Callable[[Order], str | None]) -> tuple[str, dict[str, Any]]:
    if not orders and page == 0:
        return text(lang, "orders.empty"), inline([button(text(lang, "button.buy"), BUY)],
                                                  [button(text(lang, "button.menu"), MENU)])
    rows = [[order_button(order, lang, places, page, texts_of(order))] for order in orders]
    navigation = []
    if page > 0:
        navigation.append(button(text(lang, "button.previous"), data(ORDERS, page - 1)))
    if has_next:
        navigation.append(button(text(lang, "button.next"), data(ORDERS, page + 1)))
    return text(lang, "orders.title", page=page + 1), inline(*rows, navigation,
                                                             [button(text(lang, "button.menu"), MENU)])


def order_details(order: Order, lang: str, places: int, page: int, now: datetime,
                  texts: str | None = PREMIUM_TEXTS) -> tuple[str, dict[str, Any]]:
    created = order.created_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    body = text(lang, worded(lang, "orders.details", texts), order_id=order.order_id,
                status=status_name(order.status, lang), months=order.month_count or "?",
                recipient=recipient_label(order, lang), amount=amount(order.amount_micros, places), created=created,
                **detail_values(order))
    rows = []
    if order.status == OrderStatus.PENDING and minutes_left(order, now) > 0:
        rows.append([button(text(lang, "button.check"), data(CHECK, order.order_id)),
                     button(text(lang, "button.cancel_order"), data(CANCEL_ORDER, order.order_id))])
    rows.append([button(text(lang, "button.back"), data(ORDERS, page))])
    return body, inline(*rows)


# ---------------------------------------------------------------------------------------------- settings
def language_picker(lang: str) -> dict[str, Any]:
    from chalicelib.i18n import LANGUAGE_NAMES

    return inline([button(name, data(SET_LANGUAGE, code)) for code, name in LANGUAGE_NAMES.items()],
                  [button(text(lang, "button.back"), MENU)])


def render_notice(notice: Any, places: int, dry_run: bool = False) -> tuple[str, dict[str, Any]]:
    """A notice as one Bot API call: an edit of the message that showed the order, or a new message.
    `dry_run` (GIFTS_DRY_RUN): a delivered order says that nothing was really gifted."""
    lang = normalize(notice.language)
    note = "\n\n" + text(lang, "event.dry_run") if dry_run and notice.order.status == OrderStatus.DELIVERED else ""
    if notice.edit_message_id is not None:
        body, markup = status_message(notice.order, lang, places, notice.texts)
        return "editMessageText", {"chat_id": notice.chat_id, "message_id": notice.edit_message_id,
                                   "text": body + note, "parse_mode": "HTML", "reply_markup": markup}
    body = event_text(notice.order, notice.event, lang, places, notice.reason, notice.texts, notice.paid_micros)
    return "sendMessage", {"chat_id": notice.chat_id, "text": clip(body + note), "parse_mode": "HTML"}
