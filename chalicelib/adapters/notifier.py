"""Telling buyers about their orders and operators about trouble, through the Telegram client.

Buyers read their own language (the order's, from the message catalogs). The payment message the bot
showed is edited to the new status, and each of paid, delivered, expired and failed is also announced
in a new message (an edit makes no sound). Users who blocked the bot are skipped; a 403 marks them.
Every send takes a token from the bucket shared by all Lambdas, so a burst of expiries or deliveries
stays under Telegram's per-bot limit.
"""
from __future__ import annotations

from typing import Any

from chalicelib.domain.bot import views
from chalicelib.domain.orders import Order, OrderKind
from chalicelib.domain.ports import Clock, Guards, TelegramError, TelegramGateway
from chalicelib.i18n import normalize
from chalicelib.observability import count, logger

ANNOUNCED_EVENTS = frozenset({"paid", "delivered", "expired", "failed"})


class TelegramNotifier:
    def __init__(self, telegram: TelegramGateway, guards: Guards, clock: Clock, admin_chat_id: int | None,
                 alert_cooldown_seconds: int, *, directory: Any = None, bucket: Any = None,
                 amount_places: int = 3) -> None:
        self._telegram = telegram
        self._guards = guards
        self._clock = clock
        self._admin_chat_id = admin_chat_id
        self._cooldown = alert_cooldown_seconds
        self._directory = directory
        self._bucket = bucket
        self._places = amount_places

    # ------------------------------------------------------------------ buyers
    def order_event(self, order: Order, event: str, **details: Any) -> None:
        try:
            self._order_event(order, event, details)
        except Exception:  # noqa: BLE001 - a notification never breaks the job that triggered it
            logger.warning("order notification failed", extra={"order_id": order.order_id, "event": event},
                           exc_info=True)

    def _order_event(self, order: Order, event: str, details: dict[str, Any]) -> None:
        if order.kind == OrderKind.CODE_PACK:
            return  # distributors hear about code packs from the fulfillment worker
        chat_id = order.notify_chat_id or order.buyer_user_id
        profile = self._profile(chat_id) if chat_id is not None else None
        lang = normalize(order.language or (profile.language or profile.language_code if profile else None))
        if chat_id is not None and not (profile and profile.blocked):
            if order.notify_message_id:
                body, markup = views.status_message(order, lang, self._places)
                self._call(chat_id, "editMessageText", {"chat_id": chat_id, "message_id": order.notify_message_id,
                                                        "text": body, "parse_mode": "HTML",
                                                        "reply_markup": markup})
            if event in ANNOUNCED_EVENTS:
                own_gift = chat_id == order.recipient_user_id and chat_id != order.buyer_user_id
                shown = "delivered_recipient" if event == "delivered" and own_gift else event
                body = views.event_text(order, shown, lang, self._places, str(details.get("reason") or ""))
                self._send(chat_id, body)
        recipient = order.recipient_user_id
        if event == "delivered" and recipient is not None and recipient not in (chat_id, order.buyer_user_id):
            profile = self._profile(recipient)
            if profile is None or not profile.blocked:
                recipient_lang = normalize((profile.language or profile.language_code if profile else None)
                                           or order.language)
                self._send(recipient, views.event_text(order, "delivered_recipient", recipient_lang, self._places))

    def _profile(self, user_id: int) -> Any:
        return self._directory.profile(user_id) if self._directory is not None else None

    def _send(self, chat_id: int, text: str) -> None:
        self._call(chat_id, "sendMessage", {"chat_id": chat_id, "text": views.clip(text), "parse_mode": "HTML"})

    def _call(self, chat_id: int, method: str, params: dict[str, Any]) -> None:
        if self._bucket is not None and not self._bucket.acquire():
            count("NotificationsThrottleExhausted")
        try:
            self._telegram.call(method, params)
            count("NotificationsSent")
        except TelegramError as error:
            if error.error_code == 403 and self._directory is not None and chat_id > 0:
                self._directory.set_blocked(chat_id, True, self._clock.now())
                count("BotBlocked")
            elif "message is not modified" not in error.description:
                logger.warning("notification refused", extra={"chat_id": chat_id, "method": method,
                                                              "description": error.description})
        except Exception:  # noqa: BLE001 - Telegram unreachable: logged, never raised to the caller
            logger.warning("notification not sent", extra={"chat_id": chat_id, "method": method}, exc_info=True)

    # ------------------------------------------------------------------ operators
    def alert(self, key: str, text: str) -> None:
        """The same alert key goes out at most once per cooldown (a Guards claim)."""
        logger.warning("operator alert", extra={"alert": key, "text": text})
        if self._admin_chat_id is None:
            return
        if self._guards.claim(f"alert#{key}", self._cooldown, self._clock.now()):
            self._call(self._admin_chat_id, "sendMessage",
                       {"chat_id": self._admin_chat_id, "text": views.clip(f"⚠️ {text}")})
