"""The web chat's server side: a person's messages, button presses, shared users and payments become
real Updates (or a signed TRC20 webhook), and the bot's HTML is rebuilt safely for the page.

The page itself is `templates/chat.html` with `static/chat.css` and `static/chat.js`.
"""
from __future__ import annotations

import html
import json
import re
import secrets
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import flask

from devstack.sandbox.methods import MAX_MESSAGE_LENGTH, bot_user
from devstack.sandbox.params import HTML_ATTRIBUTE, parse_html_text, unescape_html
from devstack.sandbox.responses import BadRequest, json_response

if TYPE_CHECKING:
    from devstack.sandbox.state import SandboxState

SAFE_TAGS = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s", "strike": "s",
             "del": "s", "code": "code", "pre": "pre", "blockquote": "blockquote", "tg-spoiler": "span",
             "span": "span", "a": "a", "tg-emoji": "span"}
SANDBOX_PAYER = "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p"  # a valid TRON address that pays in the sandbox
AMOUNT_IN_CODE = re.compile(r"<code>(\d+\.\d+)</code>")
ADDRESS_IN_CODE = re.compile(r"<code>(T[1-9A-HJ-NP-Za-km-z]{33})</code>")


def render_html(text: str, parse_mode: str | None) -> str:
    """Telegram-HTML made into browser HTML that can only format: every tag is rebuilt from a whitelist
    and every text run is escaped again, so a message can never inject markup into the page."""
    if parse_mode != "HTML":
        return html.escape(text)
    try:
        parse_html_text(text)
    except BadRequest:
        return html.escape(text)
    out: list[str] = []
    stack: list[str] = []
    position = 0
    while (start := text.find("<", position)) != -1:
        out.append(html.escape(unescape_html(text[position:start])))
        end = text.find(">", start)
        body = text[start + 1:end]
        position = end + 1
        if body.startswith("/"):
            out.append(f"</{stack.pop()}>" if stack else "")
            continue
        name = re.match(r"[^\s]*", body).group().lower()
        tag = SAFE_TAGS.get(name, "span")
        attributes = {match["name"].lower(): unescape_html((match["value"] or "").strip("\"'"))
                      for match in HTML_ATTRIBUTE.finditer(body[len(name):])}
        if tag == "a" and re.match(r"^(https?|tg)://\S+$", attributes.get("href", "")):
            out.append(f'<a href="{html.escape(attributes["href"])}" target="_blank" rel="noopener noreferrer">')
        elif tag == "span" and name in ("tg-spoiler", "span"):
            out.append('<span class="spoiler">')
        else:
            out.append(f"<{tag}>")
        stack.append(tag)
    out.append(html.escape(unescape_html(text[position:])))
    return "".join(out)


def inline_buttons(markup: dict[str, Any] | None) -> list[list[dict[str, str]]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [[{key: button[key] for key in ("text", "callback_data", "url", "web_app", "pay") if key in button}
             for button in row]
            for row in markup["inline_keyboard"]]


@dataclass(frozen=True)
class ChatUser:
    user_id: int
    first_name: str
    username: str | None
    language_code: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ChatUser:
        user_id = body.get("user_id")
        if isinstance(user_id, str) and user_id.strip().isdigit():
            user_id = int(user_id)
        if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id < 2 ** 52:
            raise ValueError("user_id must be a positive integer")
        username = str(body.get("username") or "").lstrip("@").strip() or None
        if username and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", username):
            raise ValueError("username must be 4-32 letters, digits or underscores")
        return cls(user_id, str(body.get("first_name") or f"User {user_id}")[:64], username,
                   str(body.get("language_code") or "en")[:16])

    def as_json(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name,
                                "language_code": self.language_code}
        if self.username:
            user["username"] = self.username
        return user

    def chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


def command_entities(text: str) -> list[dict[str, Any]]:
    match = re.match(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
    if not match:
        return []
    return [{"offset": 0, "length": len(match.group().encode("utf-16-le")) // 2, "type": "bot_command"}]


class ChatRelay:
    """Turns what the person does in the web chat into real Updates, and a payment into a signed
    TRC20 webhook. Updates go to the app's webhook with the secret header, or, with no webhook
    target configured, wait in the queue that getUpdates serves."""

    def __init__(self, app: flask.Flask, state: SandboxState, transport: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.state = state
        self.transport = transport
        self.clock = clock

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        import httpx

        try:
            with httpx.Client(transport=self.transport, timeout=30) as client:
                response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return {"ok": False, "status": None, "error": f"{type(error).__name__}: {error}"}
        return {"ok": response.is_success, "status": response.status_code, "body": response.text[:2000]}

    def deliver(self, update: dict[str, Any]) -> dict[str, Any]:
        target = self.app.config.get("SANDBOX_WEBHOOK_TARGET")
        if not target:
            self.state.queue_update(update)
            return {"ok": True, "queued": True, "update_id": update["update_id"]}
        headers = {"Content-Type": "application/json"}
        secret = self.app.config.get("SANDBOX_WEBHOOK_SECRET")
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        result = self._post(target, json.dumps(update).encode(), headers)
        result["update_id"] = update["update_id"]
        return result

    def send_text(self, user: ChatUser, text: str) -> dict[str, Any]:
        message_id = self.state.chat_user_message(user.user_id, text)
        message = {"message_id": message_id, "from": user.as_json(), "chat": user.chat(),
                   "date": int(time.time()), "text": text}
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        return self.deliver({"update_id": self.state.next_update_id(), "message": message})

    def press(self, user: ChatUser, message_id: int, data: str) -> dict[str, Any]:
        shown = self.state.bot_message(user.user_id, message_id)
        if shown is None:
            raise ValueError(f"message {message_id} is not in this chat")
        if not any(button.get("callback_data") == data for row in shown["buttons"] for button in row):
            raise ValueError("that message has no such button (any more)")
        message = {"message_id": message_id, "from": bot_user("1:sandbox"), "chat": user.chat(),
                   "date": shown["date"], "text": shown["text"]}
        if shown["buttons"]:
            message["reply_markup"] = {"inline_keyboard": shown["buttons"]}
        callback = {"id": str(zlib.crc32(f"{user.user_id}:{message_id}:{time.time_ns()}".encode())),
                    "from": user.as_json(), "message": message, "chat_instance": str(user.user_id * 31),
                    "data": data}
        return self.deliver({"update_id": self.state.next_update_id(), "callback_query": callback})

    def share(self, user: ChatUser, request_id: int, shared: ChatUser) -> dict[str, Any]:
        message_id = self.state.chat_user_message(user.user_id, f"👤 {shared.first_name}")
        item: dict[str, Any] = {"user_id": shared.user_id, "first_name": shared.first_name}
        if shared.username:
            item["username"] = shared.username
        message = {"message_id": message_id, "from": user.as_json(), "chat": user.chat(), "date": int(time.time()),
                   "users_shared": {"request_id": request_id, "users": [item]}}
        return self.deliver({"update_id": self.state.next_update_id(), "message": message})

    def pay(self, user: ChatUser) -> dict[str, Any]:
        """Pay the newest payment message in the chat: its amount (the first <code> decimal) to its address."""
        target = self.app.config.get("SANDBOX_PAYMENT_TARGET")
        secret = self.app.config.get("SANDBOX_PAYMENT_SECRET")
        if not target or not secret:
            raise ValueError("the sandbox was started without the payment webhook URL and secret")
        for entry in reversed(self.state.chat_view(user.user_id)["messages"]):
            amount, address = AMOUNT_IN_CODE.search(entry["html"]), ADDRESS_IN_CODE.search(entry["html"])
            if entry["from"] == "bot" and amount and address:
                break
        else:
            raise ValueError("no message in this chat shows an amount and an address to pay")
        micros = int(round(float(amount.group(1)) * 1_000_000))  # the amount has at most six decimals
        transfer = {"transaction_id": secrets.token_hex(32), "block_timestamp": int(self.clock() * 1000),
                    "token_info": {"symbol": "USDT", "address": self.app.config["SANDBOX_USDT_CONTRACT"],
                                   "decimals": 6, "name": "Tether USD"},
                    "from": SANDBOX_PAYER, "to": address.group(1), "type": "Transfer", "value": str(micros),
                    "confirmed": True}
        body = json.dumps(transfer).encode()
        from chalicelib.domain.signatures import sign_payload

        signature = sign_payload(secret, int(self.clock()), body)
        result = self._post(target, body, {"Content-Type": "application/json", "X-Signature": signature})
        result.update(amount=amount.group(1), to=address.group(1))
        return result


def register_chat_routes(app: flask.Flask, state: SandboxState, relay: ChatRelay) -> None:
    def body_and_user() -> tuple[dict[str, Any], ChatUser]:
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body, ChatUser.from_body(body)

    def run(action: Callable[[], dict[str, Any]]) -> flask.Response:
        try:
            return json_response(action())
        except ValueError as error:
            return json_response({"ok": False, "description": str(error)}, 400)

    @app.get("/")
    def chat_page() -> str:
        return flask.render_template("chat.html")

    @app.get("/_sandbox/chats/<int:chat_id>")
    def chat_history(chat_id: int) -> flask.Response:
        return json_response(state.chat_view(chat_id))

    @app.post("/_sandbox/chat/send")
    def chat_send() -> flask.Response:
        def action() -> dict[str, Any]:
            body, user = body_and_user()
            text = body.get("text")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_LENGTH:
                raise ValueError(f"text must be 1 to {MAX_MESSAGE_LENGTH} characters")
            return relay.send_text(user, text)
        return run(action)

    @app.post("/_sandbox/chat/press")
    def chat_press() -> flask.Response:
        def action() -> dict[str, Any]:
            body, user = body_and_user()
            message_id, data = body.get("message_id"), body.get("data")
            if isinstance(message_id, bool) or not isinstance(message_id, int) or not isinstance(data, str):
                raise ValueError("message_id (integer) and data (string) are required")
            return relay.press(user, message_id, data)
        return run(action)

    @app.post("/_sandbox/chat/share")
    def chat_share() -> flask.Response:
        def action() -> dict[str, Any]:
            body, user = body_and_user()
            request_id = body.get("request_id")
            if isinstance(request_id, bool) or not isinstance(request_id, int):
                raise ValueError("request_id must be an integer")
            shared = body.get("shared")
            if not isinstance(shared, dict):
                raise ValueError("shared must be an object with user_id, first_name, username")
            return relay.share(user, request_id, ChatUser.from_body(shared))
        return run(action)

    @app.post("/_sandbox/chat/pay")
    def chat_pay() -> flask.Response:
        def action() -> dict[str, Any]:
            _, user = body_and_user()
            return relay.pay(user)
        return run(action)

