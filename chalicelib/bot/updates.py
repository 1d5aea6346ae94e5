"""Telegram `Update` objects read into the few shapes the bot acts on. Anything else is `IGNORED`.

Parsing is lenient the way Telegram asks clients to be: unknown fields and unknown update types are
skipped, never an error, because the Bot API grows new ones without notice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.users import TelegramUser

MESSAGE = "message"
CALLBACK = "callback"
USERS_SHARED = "users_shared"
MEMBER = "member"
IGNORED = "ignored"

# Exactly the update types we handle: setWebhook/getUpdates ask Telegram for these and nothing else.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member", "pre_checkout_query")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")  # Telegram's rule for bot commands


@dataclass(frozen=True)
class Incoming:
    update_id: int
    kind: str
    user: TelegramUser | None = None
    chat_id: int | None = None
    text: str = ""
    command: str | None = None      # "start" for "/start@shop_bot payload"
    args: str = ""                  # "payload"
    callback_id: str | None = None
    data: str = ""                  # callback data
    message_id: int | None = None   # the message a callback's button sits on
    request_id: int | None = None   # users_shared
    shared: tuple[TelegramUser, ...] = field(default_factory=tuple)   # users_shared, named like senders
    member_status: str | None = None  # my_chat_member: the bot's new status in the chat


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _user(raw: Any) -> TelegramUser | None:
    if not isinstance(raw, dict) or _int(raw.get("id")) is None:
        return None
    return TelegramUser(user_id=raw["id"], first_name=_str(raw.get("first_name")),
                        last_name=_str(raw.get("last_name")), username=_str(raw.get("username")) or None,
                        language_code=_str(raw.get("language_code")) or None, is_bot=raw.get("is_bot") is True)


def _private_chat_id(message: dict) -> int | None:
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return None  # the shop talks in private chats only: groups and channels are ignored
    return _int(chat.get("id"))


def split_command(text: str) -> tuple[str | None, str]:
    """("start", "redeem-AB12") for "/start@shop_bot redeem-AB12"; (None, text) for plain text."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None, text
    head, _, rest = stripped.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    if not _COMMAND.fullmatch(name):
        return None, text
    return name, rest.strip()


def parse_update(raw: Any) -> Incoming:
    if not isinstance(raw, dict) or _int(raw.get("update_id")) is None:
        return Incoming(update_id=-1, kind=IGNORED)
    update_id = raw["update_id"]
    ignored = Incoming(update_id=update_id, kind=IGNORED)
    if isinstance(raw.get("message"), dict):
        return _parse_message(update_id, raw["message"]) or ignored
    if isinstance(raw.get("callback_query"), dict):
        return _parse_callback(update_id, raw["callback_query"]) or ignored
    if isinstance(raw.get("my_chat_member"), dict):
        return _parse_member(update_id, raw["my_chat_member"]) or ignored
    # edited_message, channel_post, inline queries, reactions and types yet to come: nothing to do.
    return ignored


def _parse_message(update_id: int, message: dict) -> Incoming | None:
    user = _user(message.get("from"))
    chat_id = _private_chat_id(message)
    if user is None or chat_id is None or user.is_bot:
        return None
    shared = message.get("users_shared")
    if isinstance(shared, dict):
        users = tuple(TelegramUser(user_id=item["user_id"], first_name=_str(item.get("first_name")),
                                 last_name=_str(item.get("last_name")),
                                 username=_str(item.get("username")) or None)
                      for item in shared.get("users") or [] if isinstance(item, dict)
                      and _int(item.get("user_id")) is not None)
        return Incoming(update_id=update_id, kind=USERS_SHARED, user=user, chat_id=chat_id,
                        request_id=_int(shared.get("request_id")), shared=users)
    text = _str(message.get("text"))
    if not text:
        return Incoming(update_id=update_id, kind=MESSAGE, user=user, chat_id=chat_id)  # a sticker, a photo...
    command, args = split_command(text)
    return Incoming(update_id=update_id, kind=MESSAGE, user=user, chat_id=chat_id, text=text,
                    command=command, args=args)


def _parse_callback(update_id: int, callback: dict) -> Incoming | None:
    user = _user(callback.get("from"))
    callback_id = _str(callback.get("id"))
    if user is None or not callback_id:
        return None
    message = callback.get("message") if isinstance(callback.get("message"), dict) else {}
    chat_id = _private_chat_id(message) if message else None
    return Incoming(update_id=update_id, kind=CALLBACK, user=user, chat_id=chat_id if chat_id else user.user_id,
                    callback_id=callback_id, data=_str(callback.get("data")),
                    message_id=_int(message.get("message_id")) if chat_id else None)


def _parse_member(update_id: int, change: dict) -> Incoming | None:
    user = _user(change.get("from"))
    chat = change.get("chat") if isinstance(change.get("chat"), dict) else {}
    new_member = change.get("new_chat_member") if isinstance(change.get("new_chat_member"), dict) else {}
    if user is None or chat.get("type") != "private":
        return None
    return Incoming(update_id=update_id, kind=MEMBER, user=user, chat_id=_int(chat.get("id")),
                    member_status=_str(new_member.get("status")) or None)
