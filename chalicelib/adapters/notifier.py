"""Telling buyers about their orders and operators about trouble, through the Telegram client."""
from __future__ import annotations

import html
from typing import Any

from chalicelib.domain.money import format_amount
from chalicelib.domain.orders import Order
from chalicelib.domain.ports import Clock, Guards, TelegramGateway
from chalicelib.observability import logger

ORDER_TEXTS = {
    "paid": "Payment received for order <code>{order_id}</code>. Delivering now.",
    "delivered": "Done: {months} months of Telegram Premium were gifted for order <code>{order_id}</code>.",
    "delivered_recipient": "You received {months} months of Telegram Premium as a gift.",
    "expired": "Order <code>{order_id}</code> expired before a payment of {amount} USDT arrived.",
    "failed": "We could not deliver order <code>{order_id}</code>: {reason}. Support has been told.",
}


class TelegramNotifier:
    def __init__(self, telegram: TelegramGateway, guards: Guards, clock: Clock, admin_chat_id: int | None,
                 alert_cooldown_seconds: int) -> None:
        self._telegram = telegram
        self._guards = guards
        self._clock = clock
        self._admin_chat_id = admin_chat_id
        self._cooldown = alert_cooldown_seconds

    def _send(self, chat_id: int, text: str) -> None:
        try:
            self._telegram.call("sendMessage", {"chat_id": chat_id, "text": text[:4096], "parse_mode": "HTML"})
        except Exception:
            logger.warning("notification not sent", extra={"chat_id": chat_id}, exc_info=True)

    def order_event(self, order: Order, event: str, **details: Any) -> None:
        if order.buyer_user_id is None:
            return
        values = {"order_id": order.order_id, "months": order.month_count,
                  "amount": format_amount(order.amount_micros, 3), "reason": html.escape(details.get("reason", ""))}
        self._send(order.buyer_user_id, ORDER_TEXTS[event].format(**values))
        if event == "delivered" and order.recipient_user_id not in (None, order.buyer_user_id):
            self._send(order.recipient_user_id, ORDER_TEXTS["delivered_recipient"].format(**values))

    def alert(self, key: str, text: str) -> None:
        logger.warning("operator alert", extra={"alert": key, "text": text})
        if self._admin_chat_id is None:
            return
        if self._guards.claim(f"alert#{key}", self._cooldown, self._clock.now()):
            self._send(self._admin_chat_id, f"⚠️ {text}")
