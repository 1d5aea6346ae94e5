"""The people the shop knows: Telegram users, distributors, and the audit log of admin actions."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from chalicelib.domain.ports.common import Page
from chalicelib.domain.users import TelegramUser, UserProfile

if TYPE_CHECKING:   # a buyer's notices and answers need the user store, not the distributors
    from chalicelib.domain.distributors import AuditEntry, Distributor


class UserStore(Protocol):
    """The users the bot knows (account "user:<id>")."""

    def remember(self, user: TelegramUser, now: datetime) -> UserProfile:
        """Record the user's names and username; clears a block (they are talking to us again)."""

    def profile(self, user_id: int) -> UserProfile | None: ...

    def find_by_username(self, username: str) -> int | None: ...

    def set_language(self, user_id: int, language: str) -> None: ...

    def set_blocked(self, user_id: int, blocked: bool, now: datetime) -> None: ...


class DistributorStore(Protocol):
    def get(self, distributor_id: str) -> Distributor | None:
        """Strongly consistent."""

    def create(self, distributor: Distributor, audit: AuditEntry) -> None:
        """The distributor and its audit entry, all or nothing."""

    def replace(self, distributor: Distributor, expected_token_hash: str, audit: AuditEntry) -> bool:
        """Overwrite on condition the stored token hash is still `expected_token_hash`, with the audit entry,
        all or nothing; False when someone changed it first."""


class AuditStore(Protocol):
    def record(self, entry: AuditEntry) -> None: ...

    def list_day(self, day: str, limit: int, cursor: str | None) -> Page:
        """One UTC day's entries, oldest first."""
