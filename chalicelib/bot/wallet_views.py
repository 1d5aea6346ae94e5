"""The wallet's screens: balance, top-up amounts and confirmation, and the history pages."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from chalicelib.bot.verbs import HISTORY, MENU, TOP_UP, TOP_UP_AMOUNT, WALLET, data
from chalicelib.bot.views import amount, button, cents, inline, price
from chalicelib.domain.ledger import HistoryLine
from chalicelib.i18n import escape, text

SHORT_ID = 6                # an order in a wallet's history: the last characters of its id (the random part)

def wallet_screen(balance_micros: int, lang: str) -> tuple[str, dict[str, Any]]:
    return text(lang, "wallet.title", balance=price(balance_micros)), \
        inline([button(text(lang, "button.top_up"), TOP_UP), button(text(lang, "button.history"), data(HISTORY, 0))],
               [button(text(lang, "button.back"), MENU)])


def top_up_picker(presets: list[int], low: int, high: int, stamp: str, lang: str) -> tuple[str, dict[str, Any]]:
    """Preset amounts (micros, whole cents) that order at once, or any amount typed."""
    body = text(lang, "wallet.top_up_ask", min=price(low), max=price(high))
    row = [button(text(lang, "button.top_up_preset", amount=price(preset)),
                  data(TOP_UP_AMOUNT, cents(preset), stamp)) for preset in presets]
    return body, inline(row, [button(text(lang, "button.back"), WALLET)])


def top_up_confirmation(amount_micros: int, stamp: str, lang: str, *, surcharge_cap_micros: int,
                        places: int) -> tuple[str, dict[str, Any]]:
    body = text(lang, "wallet.top_up_confirm", amount=price(amount_micros), cap=amount(surcharge_cap_micros, places))
    return body, inline([button(text(lang, "button.confirm"), data(TOP_UP_AMOUNT, cents(amount_micros), stamp))],
                        [button(text(lang, "button.cancel"), WALLET)])


def history_line(line: HistoryLine, lang: str) -> str:
    order = f"…{line.order_id[-SHORT_ID:]}" if line.order_id else "—"
    what = text(lang, f"history.{line.purpose.value}", order=order, memo=escape(line.memo, 80))
    posted = line.posted_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return text(lang, "history.line", sign="+" if line.amount_micros > 0 else "−",
                amount=price(abs(line.amount_micros)), date=posted, what=what)


def history_page(lines: list[HistoryLine], page: int, has_next: bool, balance_micros: int,
                 lang: str) -> tuple[str, dict[str, Any]]:
    back = [button(text(lang, "button.back"), WALLET)]
    if not lines and page == 0:
        return text(lang, "wallet.history_empty"), inline(back)
    body = "\n\n".join([text(lang, "wallet.history_title", page=page + 1, balance=price(balance_micros)),
                         *(history_line(line, lang) for line in lines)])
    navigation = []
    if page > 0:
        navigation.append(button(text(lang, "button.newer"), data(HISTORY, page - 1)))
    if has_next:
        navigation.append(button(text(lang, "button.more"), data(HISTORY, page + 1)))
    return body, inline(navigation, back)
