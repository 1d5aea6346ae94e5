"""What the bot needs from storage and the rest of the shop. Adapters implement these."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.bot.updates import TelegramUser
from chalicelib.domain.catalog import Offer
from chalicelib.domain.orders import Order
from chalicelib.domain.ports import Page


@dataclass
class ChatState:
    """A private chat as the bot remembers it between updates. `version` 0: never stored."""

    chat_id: int
    version: int = 0
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    step_at: int = 0                 # epoch seconds the step began
    language: str | None = None      # cached from Accounts (chosen, or Telegram's language_code)
    username_lc: str | None = None   # cached: the username Accounts holds for this user
    tokens: float | None = None      # flood bucket; None: full
    refilled_ms: int = 0
    notice_ms: int = 0               # last flood notice


class ConversationStore(Protocol):
    def load(self, chat_id: int, now: datetime) -> ChatState:
        """The stored state, or a fresh one (version 0) when there is none or it expired."""

    def save(self, state: ChatState, now: datetime, ttl_seconds: int) -> bool:
        """Write the state if it is still at `state.version` (absent for 0); bumps the version.
        False when another update saved first."""


@dataclass(frozen=True)
class UserProfile:
    user_id: int
    language: str | None = None      # chosen with /language
    blocked: bool = False
    language_code: str | None = None  # what Telegram last said the user's app language is


class Directory(Protocol):
    """The users the bot knows (Accounts "user:<id>")."""

    def remember(self, user: TelegramUser, now: datetime) -> UserProfile:
        """Record the user's names and username; clears a block (they are talking to us again)."""

    def profile(self, user_id: int) -> UserProfile | None: ...

    def find_by_username(self, username: str) -> int | None: ...

    def set_language(self, user_id: int, language: str) -> None: ...

    def set_blocked(self, user_id: int, blocked: bool, now: datetime) -> None: ...


class Shop(Protocol):
    """The shop services the conversation drives."""

    def offers(self) -> list[Offer]: ...

    def offer(self, product_id: str) -> Offer: ...

    def create_premium(self, buyer_user_id: int, product_id: str, recipient_user_id: int,
                       language: str | None) -> Order: ...

    def get_owned(self, order_id: str, owner_id: str) -> Order: ...

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page: ...

    def cancel(self, order_id: str, owner_id: str) -> Order: ...

    def remember_message(self, order_id: str, message_id: int) -> None:
        """The message that shows the order to its buyer; status changes edit it."""


class Redeemer(Protocol):
    def redeem(self, user_id: int, code: str, ip: str | None) -> Any: ...
