"""What the fake Bot API remembers: recorded calls, injected faults, the star balance, the webhook,
each private chat as the web chat shows it, and the updates queued for getUpdates."""
from __future__ import annotations

import copy
import dataclasses
import html
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from devstack.sandbox.chat import inline_buttons, render_html
from devstack.sandbox.params import visible_text
from devstack.sandbox.responses import BadRequest, error_body

DEFAULT_STAR_BALANCE = 1_000_000

FAULT_DESCRIPTIONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden: bot was blocked by the user",
                      404: "Not Found", 409: "Conflict", 429: "Too Many Requests: retry after {retry_after}",
                      500: "Internal Server Error", 502: "Bad Gateway"}


@dataclass
class FaultRule:
    method: str
    times: int = 1
    error_code: int | None = None
    description: str | None = None
    retry_after: int | None = None
    delay_seconds: float = 0.0
    after_acting: bool = False      # do what the call asks, then answer the error anyway ("gifted, then 502")

    def response(self) -> dict[str, Any] | None:
        if self.error_code is None:
            return None
        retry_after = self.retry_after if self.retry_after is not None else 1
        template = FAULT_DESCRIPTIONS.get(self.error_code, "Error")
        body = error_body(self.error_code, self.description or template.format(retry_after=retry_after))
        if self.error_code == 429:
            body["parameters"] = {"retry_after": retry_after}
        return body


class SandboxState:
    """Everything the fake Bot API remembers; safe to use from the server's threads and from tests."""

    def __init__(self, default_star_balance: int = DEFAULT_STAR_BALANCE) -> None:
        self._lock = threading.Lock()
        self._default_star_balance = default_star_balance
        self._star_balance = default_star_balance
        self._calls: list[dict[str, Any]] = []
        self._faults: list[FaultRule] = []
        self._last_seq = 0
        self._last_message_id = 0
        self._webhook: dict[str, Any] = {}
        self._chats: dict[int, list[dict[str, Any]]] = {}
        self._keyboards: dict[int, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._last_update_id = 100_000
        self._updates_ready = threading.Condition(self._lock)

    def record_call(self, method: str, params: dict[str, Any], token: str, status: int,
                    response: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._last_seq += 1
            call = {"seq": self._last_seq, "method": method, "params": copy.deepcopy(params), "token": token,
                    "status": status, "response": copy.deepcopy(response),
                    "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
            self._calls.append(call)
            return copy.deepcopy(call)

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(call) for call in self._calls
                    if method is None or call["method"].lower() == method.lower()]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def add_fault(self, rule: FaultRule) -> None:
        with self._lock:
            self._faults.append(rule)

    def take_fault(self, method: str) -> FaultRule | None:
        """Consume one use of the oldest fault aimed at `method`."""
        with self._lock:
            for rule in self._faults:
                if rule.method.lower() == method.lower():
                    rule.times -= 1
                    if rule.times <= 0:
                        self._faults.remove(rule)
                    return dataclasses.replace(rule)
            return None

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dataclasses.asdict(rule) for rule in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def star_balance(self) -> int:
        with self._lock:
            return self._star_balance

    def set_star_balance(self, amount: int) -> None:
        with self._lock:
            self._star_balance = amount

    def spend_stars(self, amount: int) -> None:
        with self._lock:
            if amount > self._star_balance:
                raise BadRequest("BALANCE_TOO_LOW")
            self._star_balance -= amount

    def next_message_id(self) -> int:
        with self._lock:
            self._last_message_id += 1
            return self._last_message_id

    def set_webhook(self, url: str, allowed_updates: list[str] | None, max_connections: int) -> None:
        with self._lock:
            self._webhook = {"url": url, "allowed_updates": allowed_updates,
                             "max_connections": max_connections} if url else {}

    def delete_webhook(self) -> None:
        with self._lock:
            self._webhook = {}

    def webhook_info(self) -> dict[str, Any]:
        with self._lock:
            info: dict[str, Any] = {"url": self._webhook.get("url", ""), "has_custom_certificate": False,
                                    "pending_update_count": 0}
            if self._webhook:
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook["allowed_updates"] is not None:
                    info["allowed_updates"] = list(self._webhook["allowed_updates"])
            return info

    def reset(self) -> None:
        """Forget calls, faults, chats, queued updates and the webhook; restore the default star balance."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._star_balance = self._default_star_balance
            self._webhook = {}
            self._chats.clear()
            self._keyboards.clear()
            self._updates.clear()
        stars = getattr(self, "stars", None)
        if stars is not None:
            stars.reset()

    # --- the web chat's memory: what each private chat shows ---------------------------------------

    def chat_bot_message(self, message: dict[str, Any], raw_text: str, parse_mode: str | None,
                         markup: dict[str, Any] | None, attachment: str | None = None) -> None:
        chat_id = message["chat"]["id"]
        rendered = render_html(raw_text, parse_mode)
        if attachment:
            rendered = html.escape(attachment) + ("\n" + rendered if rendered else "")
        entry = {"message_id": message["message_id"], "from": "bot", "date": message["date"],
                 "html": rendered, "text": message.get("text", raw_text),
                 "buttons": inline_buttons(markup), "edited": False}
        with self._lock:
            self._chats.setdefault(chat_id, []).append(entry)
            if markup and "keyboard" in markup:
                self._keyboards[chat_id] = markup
            elif markup and markup.get("remove_keyboard"):
                self._keyboards.pop(chat_id, None)

    def chat_edit(self, chat_id: Any, message_id: int, raw_text: str | None, parse_mode: str | None,
                  markup: dict[str, Any] | None) -> None:
        with self._lock:
            for entry in self._chats.get(chat_id, []) if isinstance(chat_id, int) else []:
                if entry["message_id"] == message_id and entry["from"] == "bot":
                    if raw_text is not None:
                        entry["html"] = render_html(raw_text, parse_mode)
                        entry["text"] = visible_text(raw_text, parse_mode)
                    entry["buttons"] = inline_buttons(markup)
                    entry["edited"] = True

    def chat_delete(self, chat_id: Any, message_id: int) -> None:
        with self._lock:
            if isinstance(chat_id, int) and chat_id in self._chats:
                self._chats[chat_id] = [m for m in self._chats[chat_id] if m["message_id"] != message_id]

    def chat_user_message(self, chat_id: int, text: str) -> int:
        message_id = self.next_message_id()
        with self._lock:
            self._chats.setdefault(chat_id, []).append(
                {"message_id": message_id, "from": "user", "date": int(time.time()), "html": html.escape(text),
                 "text": text, "buttons": [], "edited": False})
            keyboard = self._keyboards.get(chat_id)
            if keyboard and keyboard.get("one_time_keyboard") and text.startswith("👤"):
                self._keyboards.pop(chat_id, None)
        return message_id

    def chat_view(self, chat_id: int) -> dict[str, Any]:
        with self._lock:
            return {"messages": copy.deepcopy(self._chats.get(chat_id, [])),
                    "keyboard": copy.deepcopy(self._keyboards.get(chat_id))}

    def bot_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        with self._lock:
            return next((copy.deepcopy(m) for m in self._chats.get(chat_id, [])
                         if m["message_id"] == message_id and m["from"] == "bot"), None)

    # --- updates for a client without a webhook (getUpdates) ---------------------------------------

    def next_update_id(self) -> int:
        with self._lock:
            self._last_update_id += 1
            return self._last_update_id

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self._updates.append(copy.deepcopy(update))
            self._updates_ready.notify_all()

    def has_webhook(self) -> bool:
        with self._lock:
            return bool(self._webhook.get("url"))

    def take_updates(self, offset: int, limit: int, timeout: float,
                     allowed: list[str] | None) -> list[dict[str, Any]]:
        """As Telegram does: an offset confirms (forgets) every update below it; waits up to `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = [u for u in self._updates
                         if allowed is None or any(kind in u for kind in allowed)][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return copy.deepcopy(ready)
                self._updates_ready.wait(remaining)

