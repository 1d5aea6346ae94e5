"""Who hears what about an order, and operator alerts. The decisions live here; the messenger adapter
only renders and sends (throttled, skipping users who blocked the bot).

Each event of an order is told at most once: before anything is sent, the event takes a marker
(`notice#<order id>#<event>`, a GuardStore claim). A retried delivery, a replayed message or two workers
at once find the marker taken and send nothing; a crash between the marker and the send loses the notice
rather than doubling it. Money credited or refunded is told the same way: an order's refund (or a top-up's
refused purchase) once per order, a transfer's credit once per transfer
(`notice#<order id>#<event>#<transaction id>`: two underpayments of one order are two messages)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from chalicelib.domain.orders import Order
from chalicelib.domain.ports.common import Clock, GuardStore
from chalicelib.domain.ports.messaging import Messenger
from chalicelib.domain.ports.people import UserStore
from chalicelib.domain.products import NoticeRules

ORDER_EVENTS = ("paid", "delivered", "failed", "expired")   # the events told once each, by marker
ORDER_MONEY_EVENTS = ("refunded", "refunded_stars", "follow_on_refused")   # once per order: one refund entry
TRANSFER_EVENTS = ("underpaid", "overpaid", "too_late", "duplicate")      # once per transfer that credited
NOTICE_MARKER_SECONDS = 90 * 24 * 3600   # longer than any order stays open: retries stop long before


@dataclass(frozen=True)
class Notice:
    """One message about an order to one chat, in that reader's language."""

    chat_id: int
    order: Order
    event: str     # paid, delivered, delivered_recipient, expired, failed, status; underpaid, overpaid, duplicate
    language: str | None
    reason: str = ""
    edit_message_id: int | None = None   # set: edit that message to the order's status instead of announcing
    texts: str | None = None             # the product's own wording (NoticeRules.texts)
    paid_micros: int | None = None       # a payment event: what the transfer brought


class Notices:
    def __init__(self, users: UserStore, messenger: Messenger, guards: GuardStore, clock: Clock,
                 admin_chat_id: int | None, alert_cooldown_seconds: int, log: Any,
                 link_for: Callable[[str], str | None] = lambda key: None) -> None:
        self._link_for = link_for   # the panel page an alert is about (alerts.panel_link), when a panel is set
        self._users = users
        self._messenger = messenger
        self._guards = guards
        self._clock = clock
        self._admin_chat_id = admin_chat_id
        self._cooldown = alert_cooldown_seconds
        self._log = log

    # ------------------------------------------------------------------ buyers
    def order_event(self, order: Order, event: str, rules: NoticeRules, **details: Any) -> None:
        """Tell whoever hears about `event` of `order`, at most once per order and event, whoever calls.
        Never raises: a notice that cannot go out never breaks the job that triggered it."""
        try:
            notices = self.decide(order, event, rules, str(details.get("reason") or ""))
            if not notices:
                return
            if not self._guards.claim(f"notice#{order.order_id}#{event}", NOTICE_MARKER_SECONDS, self._clock.now()):
                self._log.info("order notice already sent", extra={"order_id": order.order_id, "event": event})
                return
            for notice in notices:
                self._messenger.send(notice)
        except Exception:  # noqa: BLE001 - logged; the order's own state is already saved
            self._log.warning("order notice failed", extra={"order_id": order.order_id, "event": event}, exc_info=True)

    def decide(self, order: Order, event: str, rules: NoticeRules, reason: str = "") -> list[Notice]:
        notices: list[Notice] = []
        chat_id, language, blocked = self._buyer(order)
        if chat_id is not None and not blocked:
            if rules.edits_payment_message and order.notify_message_id:
                notices.append(Notice(chat_id, order, "status", language, reason, order.notify_message_id,
                                      rules.texts))
            if event in rules.announced:
                own_gift = chat_id == order.recipient_user_id and chat_id != order.buyer_user_id
                shown = "delivered_recipient" if event == "delivered" and own_gift else event
                notices.append(Notice(chat_id, order, shown, language, reason, texts=rules.texts))
        recipient = order.recipient_user_id
        if rules.tells_recipient and event == "delivered" and recipient is not None \
                and recipient not in (chat_id, order.buyer_user_id):
            profile = self._users.profile(recipient)
            if profile is None or not profile.blocked:
                language = (profile.preferred_language if profile else None) or order.language
                notices.append(Notice(recipient, order, "delivered_recipient", language, texts=rules.texts))
        return notices

    def told(self, order_id: str, transaction_ids: Iterable[str] = ()) -> list[tuple[str, datetime]]:
        """The order's events that were told, oldest first, with when: read from their markers, with the
        credits of `transaction_ids` (the transfers that point at the order). A marker is taken just before its
        messages go out, so a crash between the two shows an event that was not sent."""
        marker_ids = {f"notice#{order_id}#{event}": event for event in ORDER_EVENTS + ORDER_MONEY_EVENTS}
        marker_ids.update({_money_marker(order_id, event, tx): f"{event} ({tx[:12]})"
                           for tx in transaction_ids for event in TRANSFER_EVENTS})
        held = self._guards.held_until(list(marker_ids))
        order = list(marker_ids)   # in the second: events in the order they happen, not as the store answers
        told = sorted((until, order.index(marker)) for marker, until in held.items())
        return [(marker_ids[order[place]], datetime.fromtimestamp(until - NOTICE_MARKER_SECONDS, timezone.utc))
                for until, place in told]

    def payment_event(self, order: Order, event: str, paid_micros: int | None, rules: NoticeRules,
                      transaction_id: str | None = None) -> None:
        """Money credited or refunded (underpaid, overpaid, duplicate, a refund): whoever ordered hears it in a
        new message, whatever the product announces otherwise; it is their money. At most once per order and
        event, or per transfer (`transaction_id`) for a transfer's credit. Never raises."""
        try:
            chat_id, language, blocked = self._buyer(order)
            if chat_id is None or blocked:
                return
            marker = _money_marker(order.order_id, event, transaction_id)
            if not self._guards.claim(marker, NOTICE_MARKER_SECONDS, self._clock.now()):
                self._log.info("payment notice already sent", extra={"order_id": order.order_id, "event": event})
                return
            self._messenger.send(Notice(chat_id, order, event, language, texts=rules.texts, paid_micros=paid_micros))
        except Exception:  # noqa: BLE001 - logged; the payment is recorded already
            self._log.warning("payment notice failed", extra={"order_id": order.order_id, "event": event},
                              exc_info=True)

    def _buyer(self, order: Order) -> tuple[int | None, str | None, bool]:
        """The chat that ordered, the language its reader reads, and whether they blocked the bot."""
        chat_id = order.notify_chat_id or order.buyer_user_id
        profile = self._users.profile(chat_id) if chat_id is not None else None
        language = order.language or (profile.preferred_language if profile else None)
        return chat_id, language, bool(profile and profile.blocked)

    # ------------------------------------------------------------------ operators
    def alert(self, key: str, text: str) -> None:
        """The same alert key goes out at most once per cooldown (a guard claim)."""
        self._log.warning("operator alert", extra={"alert": key, "text": text})
        if self._admin_chat_id is None:
            return
        if self._guards.claim(f"alert#{key}", self._cooldown, self._clock.now()):
            link = self._link_for(key)
            self._messenger.send_text(self._admin_chat_id, f"⚠️ {text}" + (f"\n{link}" if link else ""))


def _money_marker(order_id: str, event: str, transaction_id: str | None) -> str:
    return f"notice#{order_id}#{event}" + (f"#{transaction_id}" if transaction_id else "")
