"""Handling one webhook update from start to end: once per update_id, flood control, the conversation,
the state saved with a conditional write, then the replies sent.

Order of work: the update's claim is committed first (so a retry by Telegram does nothing twice), the
state is saved before any reply leaves (so a reply never describes a state that was not kept), and the
replies go last. Anything that raises is logged by the caller and the update still counts as handled.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from chalicelib.bot.conversation import Conversation
from chalicelib.bot.limits import FloodPolicy, take
from chalicelib.bot.turn import Call
from chalicelib.bot.updates import CALLBACK, IGNORED, MEMBER, Incoming, parse_update
from chalicelib.domain.ports.bot import ChatState, ConversationStore
from chalicelib.domain.ports.common import Clock, GuardStore
from chalicelib.domain.ports.people import UserStore
from chalicelib.domain.ports.telegram import TelegramError, TelegramGateway
from chalicelib.i18n import normalize, text

UPDATE_GUARD_SECONDS = 24 * 3600      # Telegram keeps an unconfirmed update that long
STATE_TTL_SECONDS = 24 * 3600
NOT_MODIFIED = "message is not modified"
CANNOT_EDIT = ("message to edit not found", "message can't be edited", "MESSAGE_ID_INVALID")


@dataclass
class Outcome:
    """What happened to one update (logged, counted and used by the benchmark)."""

    result: str
    calls: int = 0


class BotService:
    def __init__(self, conversation: Conversation, store: ConversationStore, directory: UserStore, guards: GuardStore,
                 telegram: TelegramGateway, clock: Clock, flood: FloodPolicy, count: Callable[[str], None],
                 log: Any) -> None:
        self._conversation = conversation
        self._store = store
        self._directory = directory
        self._guards = guards
        self._telegram = telegram
        self._clock = clock
        self._flood = flood
        self._count = count
        self._log = log

    def handle_update(self, raw: Any) -> Outcome:
        incoming = parse_update(raw)
        if incoming.kind == IGNORED or incoming.chat_id is None or incoming.user is None:
            self._count("BotUpdatesIgnored")
            return Outcome("ignored")
        now = self._clock.now()
        if not self._guards.claim(f"update#{incoming.update_id}", UPDATE_GUARD_SECONDS, now):
            self._count("BotUpdatesReplayed")
            return Outcome("replayed")
        if incoming.kind == MEMBER:
            blocked = incoming.member_status in ("kicked", "left")
            self._directory.set_blocked(incoming.user.user_id, blocked, now)
            self._count("BotBlocked" if blocked else "BotUnblocked")
            return Outcome("member")
        state = self._store.load(incoming.chat_id, now)
        self._refresh_profile(incoming, state, now)
        if not self._take_token(state, now):
            calls = self._flood_reply(incoming, state, now)
            self._save(state, now)
            self._count("BotUpdatesFlooded")
            return Outcome("flooded", self._send_all(calls, incoming, state, now))
        try:
            calls = self._conversation.handle(incoming, state, now)
            result = "handled"
        except Exception:  # noqa: BLE001 - the user still gets an answer; the error is logged
            self._log.exception("bot update failed", extra={"update_id": incoming.update_id})
            self._count("BotUpdatesFailed")
            calls, result = self._conversation.fail(incoming, state, now), "failed"
        self._save(state, now)
        return Outcome(result, self._send_all(calls, incoming, state, now))

    # ------------------------------------------------------------------ steps
    def _refresh_profile(self, incoming: Incoming, state: ChatState, now: datetime) -> None:
        """Accounts learn the user's username (for @username recipients) and give back their language.
        Written only when the cached copy in the chat state is missing or out of date."""
        user = incoming.user
        username_lc = (user.username or "").lower() or None
        if state.version and state.language and state.username_lc == username_lc:
            return
        profile = self._directory.remember(user, now)
        state.language = normalize(profile.language or user.language_code)
        state.username_lc = username_lc

    def _take_token(self, state: ChatState, now: datetime) -> bool:
        taken = take(state.tokens, state.refilled_ms, _ms(now), self._flood)
        state.tokens, state.refilled_ms = taken.tokens, taken.refilled_ms
        return taken.allowed

    def _flood_reply(self, incoming: Incoming, state: ChatState, now: datetime) -> list[Call]:
        calls = []
        if incoming.kind == CALLBACK:
            calls.append(Call("answerCallbackQuery", {"callback_query_id": incoming.callback_id}))
        if _ms(now) - state.notice_ms >= self._flood.notice_every_ms:
            state.notice_ms = _ms(now)
            calls.append(Call("sendMessage", {"chat_id": incoming.chat_id,
                                              "text": text(state.language, "flood.notice")}))
        return calls

    def _save(self, state: ChatState, now: datetime) -> None:
        if not self._store.save(state, now, STATE_TTL_SECONDS):
            # Another update of this chat saved in between; its state is at least as new as ours.
            self._count("BotStateConflicts")
            self._log.info("conversation saved concurrently; keeping the other update's state",
                           extra={"chat_id": state.chat_id})

    def _send_all(self, calls: list[Call], incoming: Incoming, state: ChatState, now: datetime) -> int:
        sent = 0
        for call in calls:
            sent += self._send(call, incoming, state, now)
        return sent

    def _send(self, call: Call, incoming: Incoming, state: ChatState, now: datetime) -> int:
        try:
            self._telegram.call(call.method, call.params)
            return 1
        except TelegramError as error:
            if error.error_code == 403:
                self._directory.set_blocked(incoming.user.user_id, True, now)  # type: ignore[union-attr]
                self._count("BotBlocked")
                state.language = None  # the cached profile is stale: the next update refreshes (and unblocks)
                self._save(state, now)
                return 1
            if NOT_MODIFIED in error.description:
                return 1  # the message already shows exactly this
            if call.fallback is not None and any(reason in error.description for reason in CANNOT_EDIT):
                return 1 + self._send(call.fallback, incoming, state, now)
            self._log.warning("Bot API refused a reply", extra={"method": call.method,
                                                                 "description": error.description})
            return 1
        except Exception:  # noqa: BLE001 - unreachable Telegram: log, the next reply may still go out
            self._log.warning("Bot API call failed", extra={"method": call.method}, exc_info=True)
            return 1


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
