"""Real-shaped Telegram updates, and a chat driver that posts them to the webhook like Telegram does."""
from __future__ import annotations

import itertools
import json
from typing import Any

WEBHOOK_SECRET = "test-webhook-secret"
BOT = {"id": 123456, "is_bot": True, "first_name": "tgshop sandbox", "username": "tgshop_sandbox_bot"}
_update_ids = itertools.count(700_000_000)


def user_json(user_id: int, first_name: str = "Ann", username: str | None = None, language: str = "en",
              **extra: Any) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language, **extra}
    if username:
        user["username"] = username
    return user


def private_chat(user: dict) -> dict:
    chat = {"id": user["id"], "first_name": user["first_name"], "type": "private"}
    if "username" in user:
        chat["username"] = user["username"]
    return chat


def message_update(user: dict, text: str, *, message_id: int = 1, date: int = 1_795_000_000,
                   update_id: int | None = None, **extra: Any) -> dict:
    message: dict[str, Any] = {"message_id": message_id, "from": user, "chat": private_chat(user), "date": date,
                               "text": text, **extra}
    if text.startswith("/"):
        command = text.split(" ", 1)[0]
        message["entities"] = [{"offset": 0, "length": len(command.encode("utf-16-le")) // 2,
                                "type": "bot_command"}]
    return {"update_id": update_id or next(_update_ids), "message": message}


def callback_update(user: dict, data: str, *, message_id: int, message_text: str = "menu",
                    update_id: int | None = None) -> dict:
    return {"update_id": update_id or next(_update_ids),
            "callback_query": {"id": str(next(_update_ids) * 7), "from": user, "chat_instance": "-5839",
                               "data": data,
                               "message": {"message_id": message_id, "from": BOT, "chat": private_chat(user),
                                           "date": 1_795_000_000, "text": message_text}}}


def users_shared_update(user: dict, request_id: int, shared: list[dict], *, message_id: int = 2) -> dict:
    return {"update_id": next(_update_ids),
            "message": {"message_id": message_id, "from": user, "chat": private_chat(user), "date": 1_795_000_000,
                        "users_shared": {"request_id": request_id, "users": shared}}}


def member_update(user: dict, old: str, new: str) -> dict:
    return {"update_id": next(_update_ids),
            "my_chat_member": {"chat": private_chat(user), "from": user, "date": 1_795_000_000,
                               "old_chat_member": {"user": BOT, "status": old},
                               "new_chat_member": {"user": BOT, "status": new,
                                                   **({"until_date": 0} if new == "kicked" else {})}}}


class ChatDriver:
    """One user talking to the bot through POST /telegram/webhook, reading replies from the sandbox."""

    def __init__(self, client, sandbox_state, user: dict, clock=None, pace_seconds: float = 0) -> None:
        self.client = client
        self.state = sandbox_state
        self.user = user
        self.clock = clock
        self.pace_seconds = pace_seconds  # a person's pace between updates (keeps the flood limit out)
        self._message_ids = itertools.count(1)

    def post(self, update: dict, secret: str | None = WEBHOOK_SECRET):
        if self.clock is not None and self.pace_seconds:
            self.clock.advance(seconds=self.pace_seconds)
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return self.client.http.post("/telegram/webhook", headers=headers, body=json.dumps(update))

    def say(self, text: str):
        response = self.post(message_update(self.user, text, message_id=next(self._message_ids)))
        assert response.status_code == 200, response.body
        return response

    def tap(self, data: str, message_id: int | None = None):
        response = self.post(callback_update(self.user, data, message_id=message_id or self.last_bot_message_id()))
        assert response.status_code == 200, response.body
        return response

    def share(self, request_id: int, shared: dict):
        return self.post(users_shared_update(self.user, request_id, [shared],
                                             message_id=next(self._message_ids)))

    # ---------------------------------------------------------------- what the bot did
    def replies(self) -> list[dict]:
        """Successful sendMessage / editMessageText calls to this chat, oldest first."""
        return [call for call in self.state.calls() if call["method"] in ("sendMessage", "editMessageText")
                and call["params"].get("chat_id") == self.user["id"]]

    def last_reply(self) -> dict:
        replies = self.replies()
        assert replies, "the bot sent nothing"
        return replies[-1]

    def last_text(self) -> str:
        return self.last_reply()["params"]["text"]

    def last_bot_message_id(self) -> int:
        reply = self.last_reply()
        if reply["method"] == "editMessageText":
            return reply["params"]["message_id"]
        return reply["response"]["result"]["message_id"]

    def buttons(self, reply: dict | None = None) -> dict[str, str]:
        """label -> callback data of the newest reply that has an inline keyboard."""
        candidates = [reply] if reply else [r for r in reversed(self.replies())
                                            if "inline_keyboard" in (r["params"].get("reply_markup") or {})]
        assert candidates, "no inline keyboard"
        rows = candidates[0]["params"]["reply_markup"]["inline_keyboard"]
        return {button["text"]: button["callback_data"] for row in rows for button in row}

    def button(self, prefix: str) -> str:
        for label, data in self.buttons().items():
            if prefix in label:
                return data
        raise AssertionError(f"no button like {prefix!r} in {list(self.buttons())}")

    def answers(self) -> list[dict]:
        return [call for call in self.state.calls("answerCallbackQuery")]
