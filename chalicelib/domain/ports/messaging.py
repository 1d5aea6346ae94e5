"""Sending messages: the adapter renders a notice in its reader's language and sends it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.domain.notices import Notice


class Messenger(Protocol):
    def send(self, notice: Notice) -> None:
        """Render and send; a user who blocked the bot is marked so and skipped next time. Never raises."""

    def send_text(self, chat_id: int, text: str) -> None:
        """A plain message (operator alerts). Never raises."""
