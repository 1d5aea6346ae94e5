"""Sending notices and alerts through the Telegram client. What is said, and to whom, is decided in the
domain (chalicelib/domain/notices.py) and rendered by the bot's views; this adapter only sends.

Every send takes a token from the bucket shared by all Lambdas, so a burst of expiries or deliveries stays
under Telegram's per-bot limit. A 403 marks the user as having blocked the bot.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.domain.notices import Notice
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.people import UserStore
from chalicelib.domain.ports.telegram import TelegramError, TelegramGateway
from chalicelib.observability import count, logger

Render = Callable[[Notice], tuple[str, dict[str, Any]]]


class TelegramMessenger:
    def __init__(self, telegram: TelegramGateway, users: UserStore, clock: Clock, render: Render,
                 clip: Callable[[str], str], bucket: Any = None) -> None:
        self._telegram = telegram
        self._users = users
        self._clock = clock
        self._render = render
        self._clip = clip
        self._bucket = bucket

    def send(self, notice: Notice) -> None:
        try:
            method, params = self._render(notice)
            self._call(notice.chat_id, method, params)
        except Exception:  # noqa: BLE001 - a notice never breaks the job that triggered it
            logger.warning("notice not sent", extra={"order_id": notice.order.order_id, "event": notice.event},
                           exc_info=True)

    def send_text(self, chat_id: int, text: str) -> None:
        self._call(chat_id, "sendMessage", {"chat_id": chat_id, "text": self._clip(text)})

    def _call(self, chat_id: int, method: str, params: dict[str, Any]) -> None:
        if self._bucket is not None and not self._bucket.acquire():
            count("NotificationsThrottleExhausted")
        try:
            self._telegram.call(method, params)
            count("NotificationsSent")
        except TelegramError as error:
            if error.error_code == 403 and chat_id > 0:
                self._users.set_blocked(chat_id, True, self._clock.now())
                count("BotBlocked")
            elif "message is not modified" not in error.description:
                logger.warning("notification refused", extra={"chat_id": chat_id, "method": method,
                                                              "description": error.description})
        except Exception:  # noqa: BLE001 - Telegram unreachable: logged, never raised to the caller
            logger.warning("notification not sent", extra={"chat_id": chat_id, "method": method}, exc_info=True)
