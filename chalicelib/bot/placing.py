"""Placing an order from a button: the stamp its screen carries, the gate that lets a stamp order once, and
what the buyer reads when the shop refuses.

A button that places an order (Confirm, Pay with balance, a top-up amount) carries its screen's stamp: when,
and by which update, the screen was rendered. The gate lets a stamp order at most once, and not at all once
it is an hour old: two fast taps, a tap and its retry, or two buttons of the same screen place one order
between them.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Callable

from chalicelib.bot import views
from chalicelib.bot.turn import Turn
from chalicelib.domain.errors import DomainError, RateLimited

CONFIRM_TTL_SECONDS = 3600
CLOCK_SKEW_SECONDS = 30     # a stamp this far ahead of our clock still counts (another container rendered it)
_STAMP = re.compile(r"([0-9a-z]{1,8})\.([0-9a-z]{1,4})")  # what `stamp` writes, and nothing else


def stamp(now: datetime, update_id: int) -> str:
    """"<seconds>.<update>" in base 36. Each rendering gets its own stamp; both taps of a double tap carry
    the same one."""
    return f"{_base36(int(now.timestamp()))}.{_base36(update_id % 36 ** 4)}"


def stamp_seconds(text: str) -> int:
    """When a screen was rendered, read back from its stamp; ValueError for anything `stamp` does not write
    (`int(..., 36)` alone would take "+Z", " z" or "z_z")."""
    match = _STAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"not a stamp: {text!r}")
    return int(match.group(1), 36)


class OrderGate:
    """At most one order per stamped screen, and none from a screen older than an hour."""

    def __init__(self, once: Callable[[str, int], bool]) -> None:
        self._once = once

    def admits(self, turn: Turn, screen: str, stamped: str) -> bool:
        """`screen` names what the screen offered (months and recipient, a top-up's cents): with the chat and
        the stamp it is the claim. A refusal is answered here. ValueError for a malformed stamp."""
        age = int(turn.now.timestamp()) - stamp_seconds(stamped)
        if not -CLOCK_SKEW_SECONDS <= age <= CONFIRM_TTL_SECONDS:
            turn.answer(turn.t("buy.confirm_expired"))
            turn.show(turn.t("buy.confirm_expired"), views.main_menu(turn.lang))
            return False
        if not self._once(f"confirm#{turn.incoming.chat_id}#{screen}#{stamped}", 2 * CONFIRM_TTL_SECONDS):
            turn.answer(turn.t("buy.already_confirmed"))
            return False
        return True


def refusal(turn: Turn, error: DomainError) -> str:
    """Why the shop placed no order, in the buyer's words: too many orders open, payments busy, or not for sale."""
    if error.code == "TOO_MANY_OPEN_ORDERS":
        return turn.t("buy.too_many_open", count=error.details.get("limit", "?"))
    if isinstance(error, RateLimited) or error.code == "NO_PAYMENT_SLOT":
        return turn.t("buy.unavailable")
    return turn.t("buy.not_available")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, remainder = divmod(number, 36)
        out = digits[remainder] + out
        if not number:
            return out
