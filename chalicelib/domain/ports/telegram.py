"""The Telegram Bot API as the domain sees it: one call, and what can go wrong with it."""
from __future__ import annotations

from typing import Any, Protocol


class TelegramError(Exception):
    """Telegram answered with an error (`permanent` when retrying cannot help)."""

    def __init__(self, description: str, error_code: int, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.error_code = error_code
        self.retry_after = retry_after

    @property
    def permanent(self) -> bool:
        return 400 <= self.error_code < 500 and self.error_code != 429


class TelegramUnreachable(Exception):
    """No attempt of the call reached Telegram or was acted on (connection refused or failed before sending,
    or rate limited: 429). Trying again later cannot do the thing twice."""


class TelegramOutcomeUnknown(Exception):
    """An attempt may have reached Telegram and been acted on, and no answer says whether it was (a 5xx, a
    timeout or a dropped connection after sending). Trying again may do the thing twice."""


class TelegramGateway(Protocol):
    def call(self, method: str, params: dict[str, Any], *, files: dict | None = None) -> Any: ...
