"""One update being answered, and the Bot API calls it produces.

A chat waits in a step only while the bot expects typed input; every other screen carries what it needs
in its buttons' callback data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.bot.updates import CALLBACK, Incoming
from chalicelib.bot.views import clip
from chalicelib.domain.ports.bot import ChatState
from chalicelib.domain.users import owner_for_user
from chalicelib.i18n import text

AWAIT_RECIPIENT = "await_recipient"     # the buy flow waits for a recipient's @username
AWAIT_CODE = "await_code"               # the redeem flow waits for a code
AWAIT_TOP_UP = "await_top_up"           # the wallet flow waits for an amount to top up
AWAIT_TRON_ADDRESS = "await_tron_address"     # the energy or exchange flow waits for a TRON address
REDEEM_LINK_PREFIX = "redeem-"          # a /start deep link that carries a redeem code
STEP_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Call:
    """One Bot API call. An edit carries `fallback`, sent instead when the message cannot be edited."""

    method: str
    params: dict[str, Any]
    fallback: Call | None = None


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
        params: dict[str, Any] = {"chat_id": self.incoming.chat_id, "text": clip(body), "parse_mode": "HTML"}
        if markup is not None:
            params["reply_markup"] = markup
        self.calls.append(Call("sendMessage", params))

    def show(self, body: str, markup: dict[str, Any] | None = None) -> None:
        """Edit the message a tapped button sits on; for a typed command, send a new message."""
        if self.incoming.kind != CALLBACK or self.incoming.message_id is None:
            self.send(body, markup)
            return
        params: dict[str, Any] = {"chat_id": self.incoming.chat_id, "message_id": self.incoming.message_id,
                                  "text": clip(body), "parse_mode": "HTML"}
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
