"""The bot's conversation state per private chat."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass
class ChatState:
    """A private chat as the bot remembers it between updates. `version` 0: never stored."""

    chat_id: int
    version: int = 0
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    step_at: int = 0                 # epoch seconds the step began
    language: str | None = None      # cached from the user store (chosen, or Telegram's language_code)
    username_lc: str | None = None   # cached: the username the user store holds for this user
    tokens: float | None = None      # flood bucket; None: full
    refilled_ms: int = 0
    notice_ms: int = 0               # last flood notice


class ConversationStore(Protocol):
    def load(self, chat_id: int, now: datetime) -> ChatState:
        """The stored state, or a fresh one (version 0) when there is none or it expired."""

    def save(self, state: ChatState, now: datetime, ttl_seconds: int) -> bool:
        """Write the state if it is still at `state.version` (absent for 0); bumps the version.
        False when another update saved first."""
