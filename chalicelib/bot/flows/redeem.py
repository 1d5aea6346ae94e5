"""Redeeming a code: typed after /redeem or the Redeem button, given with the command, or carried by a
deep link (t.me/<bot>?start=redeem-<code>)."""
from __future__ import annotations

from typing import Any

from chalicelib.bot import verbs, views
from chalicelib.bot.ports import Redeemer
from chalicelib.bot.turn import AWAIT_CODE, Turn
from chalicelib.domain.codes import format_code, normalize_code
from chalicelib.domain.errors import DomainError, RateLimited

ERRORS = {"CODE_NOT_FOUND": "redeem.not_found", "CODE_USED_UP": "redeem.used_up",
          "CODE_INACTIVE": "redeem.inactive", "ALREADY_REDEEMED": "redeem.already",
          "CODE_EXPIRED": "redeem.expired", "VALIDATION_FAILED": "redeem.invalid",
          "INVALID_CODE": "redeem.invalid", "CODE_MALFORMED": "redeem.invalid"}


class RedeemFlow:
    def __init__(self, redeemer: Redeemer | None) -> None:
        self._redeemer = redeemer

    def command(self, turn: Turn, code: str) -> None:
        """/redeem <code> redeems at once; a bare /redeem asks for the code."""
        if code:
            self.code_given(turn, code)
        else:
            turn.set_step(AWAIT_CODE)
            turn.send(turn.t("redeem.ask"))

    def ask(self, turn: Turn, _: str) -> None:
        turn.set_step(AWAIT_CODE)
        turn.show(turn.t("redeem.ask"), views.inline([views.button(turn.t("button.cancel"), verbs.MENU)]))

    def code_given(self, turn: Turn, raw_code: str) -> None:
        """What `POST /redeem` accepts is accepted here: the one spelling rule (`normalize_code`: case, spaces,
        hyphens and O/I/L do not matter) decides, and the redeemer gets the code in its printed form."""
        turn.set_step(None)
        code = normalize_code(raw_code)
        redeemer = self._redeemer
        if redeemer is None:
            turn.send(turn.t("redeem.unavailable"), views.menu_only(turn.lang))
            return
        if code is None:
            turn.send(turn.t("redeem.invalid"))
            return
        try:
            # Telegram tells us no IP: the user limit applies
            result = redeemer.redeem(turn.user_id, format_code(code), None)
        except RateLimited as error:
            turn.send(turn.t("redeem.rate_limited", seconds=error.retry_after or 60))
            return
        except DomainError as error:
            turn.send(turn.t(ERRORS.get(error.code, "redeem.failed")))
            return
        turn.send(turn.t("redeem.success", months=_months_of(result)), views.menu_only(turn.lang))


def _months_of(result: Any) -> Any:
    for name in ("months", "month_count"):
        value = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
        if value:
            return value
    return "?"
