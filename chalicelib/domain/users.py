"""Telegram users as the shop knows them: who they are and what they prefer."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TelegramUser:
    """A Telegram user as an update or Mini App init data names them."""

    user_id: int
    first_name: str = ""
    last_name: str = ""
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or \
            (f"@{self.username}" if self.username else str(self.user_id))


@dataclass(frozen=True)
class UserProfile:
    user_id: int
    language: str | None = None      # chosen with /language
    blocked: bool = False
    language_code: str | None = None  # what Telegram last said the user's app language is

    @property
    def preferred_language(self) -> str | None:
        return self.language or self.language_code


def owner_for_user(user_id: int) -> str:
    return f"user:{user_id}"


def owner_for_distributor(distributor_id: str) -> str:
    return f"dist:{distributor_id}"
