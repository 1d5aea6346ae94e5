"""A fake Telegram Bot API for local development and tests, and a web chat to talk to the bot.

It answers the handful of Bot API methods tgshop uses with Telegram's own response and
error shapes, records every call for inspection, and lets a test inject faults (429, 5xx,
slow answers) or change the bot's star balance through `/_sandbox/...` control endpoints.
Validation follows Telegram's rules and error wording for the parameters tgshop sends, so a
malformed request fails locally instead of in production.

`/` is a small web chat: pick a user, type messages, press inline buttons, share a user for a
`request_users` button; each becomes a real Update posted to the app's webhook with the secret
header (or queued for getUpdates when no webhook target is set). The bot's replies are kept per
chat, HTML rendered and edits applied in place. "Simulate payment" posts a signed TRC20 webhook
for the amount and address the newest payment message shows. `/calls` lists the recorded calls.
"""
from __future__ import annotations

import copy
import dataclasses
import html
import json
import re
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import flask
from werkzeug.serving import make_server

DEFAULT_TOKEN_PATTERN = r"^\d+:[A-Za-z0-9_-]+$"
DEFAULT_STAR_BALANCE = 1_000_000
DEFAULT_USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_GIFT_TEXT_LENGTH = 128
MAX_POLL_WAIT_SECONDS = 5  # getUpdates long polls are cut short so a stopping client is not held
MAX_CALLBACK_DATA_BYTES = 64
DOCUMENT_PREVIEW_BYTES = 64 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's own limit for bot uploads
PREMIUM_STAR_PRICES = {3: 1000, 6: 1500, 12: 2500}

SUPPORTED_HTML_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                                 "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"})
HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
HTML_ATTRIBUTE = re.compile(r"""(?P<name>[^\s=]+)(?:\s*=\s*(?P<value>"[^"]*"|'[^']*'|[^\s"']+))?""")
PARSE_MODES = {"html": "HTML", "markdown": "Markdown", "markdownv2": "MarkdownV2"}
CHAT_ACTIONS = frozenset({"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                          "upload_voice", "upload_document", "choose_sticker", "find_location",
                          "record_video_note", "upload_video_note"})
INLINE_BUTTON_ACTIONS = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                         "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                         "copy_text", "callback_game", "pay")
BOT_COMMAND_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
INTEGER_STRING = re.compile(r"^[+-]?\d+$")

FAULT_DESCRIPTIONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden: bot was blocked by the user",
                      404: "Not Found", 409: "Conflict", 429: "Too Many Requests: retry after {retry_after}",
                      500: "Internal Server Error", 502: "Bad Gateway"}


class BadRequest(Exception):
    """A request Telegram would refuse with 400; `reason` is the text after "Bad Request: "."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.description = f"Bad Request: {reason}"


def error_body(error_code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": error_code, "description": description}


# --- HTML parse mode -----------------------------------------------------------------------------


def parse_html_text(text: str) -> str:
    """Return the visible text of Telegram-HTML markup, or raise BadRequest worded like Telegram.

    Simpler than Telegram's parser ('>' inside attribute values is not supported) but it refuses
    the same common mistakes: unknown tags, a bare '<', unbalanced or crossed tags.
    """
    plain: list[str] = []
    open_tags: list[str] = []
    position = 0
    while (tag_start := text.find("<", position)) != -1:
        plain.append(unescape_html(text[position:tag_start]))
        tag_end = text.find(">", tag_start)
        offset = len(text[:tag_start].encode("utf-8"))
        body = text[tag_start + 1:tag_end] if tag_end != -1 else text[tag_start + 1:]
        position = tag_end + 1
        if body.startswith("/"):
            name = body[1:].rstrip().lower()
            if tag_end == -1 or not re.fullmatch(r"[^\s]*", name):
                raise entity_error(f"Unclosed end tag at byte offset {offset}")
            if not open_tags:
                raise entity_error(f"Unexpected end tag at byte offset {offset}")
            if name and name != open_tags[-1]:
                raise entity_error(f'Unmatched end tag at byte offset {offset}, '
                                   f'expected "</{open_tags[-1]}>", found "</{name}>"')
            open_tags.pop()
            continue
        name = re.match(r"[^\s]*", body).group().lower()
        if name not in SUPPORTED_HTML_TAGS and (tag_end != -1 or len(name) < len(body)):
            raise entity_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        if tag_end == -1:
            raise entity_error(f"Unclosed start tag at byte offset {offset}")
        attributes = {match["name"].lower(): unescape_html((match["value"] or "").strip("\"'"))
                      for match in HTML_ATTRIBUTE.finditer(body[len(name):])}
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise entity_error("Invalid custom emoji identifier specified")
        open_tags.append(name)
    if open_tags:
        raise entity_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(plain) + unescape_html(text[position:])


def entity_error(reason: str) -> BadRequest:
    return BadRequest(f"can't parse entities: {reason}")


def unescape_html(text: str) -> str:
    """Decode the character references Telegram knows; any other '&' stays literal, as there."""
    def decode(match: re.Match[str]) -> str:
        reference = match[1]
        if reference[0] != "#":
            return HTML_ENTITIES[reference]
        code = int(reference[2:], 16) if reference[1] in "xX" else int(reference[1:])
        return chr(code) if 0 < code < 0x10FFFF else match[0]
    return re.sub(r"&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|lt|gt|amp|quot);?", decode, text)


# --- parameter types ------------------------------------------------------------------------------


def parse_integer(name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and INTEGER_STRING.match(value.strip()):
        return int(value.strip())
    raise BadRequest(f'parameter "{name}" must be an Integer')


def parse_chat_id(name: str, value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = value.strip()
        if INTEGER_STRING.match(value):
            return int(value)
        if re.match(r"^@[A-Za-z0-9_]{4,}$", value):
            return value
    raise BadRequest("chat not found")


def parse_string(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # Telegram reads every top-level JSON scalar as its text
    raise BadRequest(f'parameter "{name}" must be a String')


def parse_boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, int)) and str(value).strip().lower() in ("true", "1", "false", "0"):
        return str(value).strip().lower() in ("true", "1")
    raise BadRequest(f'parameter "{name}" must be a Boolean')


def parse_parse_mode(name: str, value: Any) -> str:
    mode = PARSE_MODES.get(parse_string(name, value).lower())
    if mode is None:
        raise BadRequest("unsupported parse_mode")
    return mode


def parse_entities(name: str, entities: Any) -> list[dict[str, Any]]:
    if not isinstance(entities, list) or not all(
            isinstance(entity, dict) and isinstance(entity.get("type"), str)
            and isinstance(entity.get("offset"), int) and isinstance(entity.get("length"), int)
            for entity in entities):
        raise BadRequest("can't parse entities JSON object")
    return entities


def parse_string_array(name: str, items: Any) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise BadRequest(f'field "{name}" must be an Array of String')
    return items


def parse_object(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"can't parse {name} JSON object")
    return value


def parse_input_file(name: str, value: Any) -> dict[str, Any] | str:
    if isinstance(value, dict) and "filename" in value:
        return value
    if isinstance(value, str) and value.strip():
        return value  # a file_id or an HTTP URL Telegram would fetch itself
    raise BadRequest(f"there is no {name} in the request")


def parse_chat_action(name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in CHAT_ACTIONS:
        raise BadRequest("wrong parameter action in request")
    return value


def parse_bot_commands(name: str, commands: Any) -> list[dict[str, str]]:
    if not isinstance(commands, list) or not all(isinstance(command, dict) for command in commands):
        raise BadRequest("Expected an Array of BotCommand")
    for command in commands:
        if not isinstance(command.get("command"), str) or not BOT_COMMAND_PATTERN.match(command["command"]):
            raise BadRequest("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise BadRequest("BOT_COMMAND_DESCRIPTION_INVALID")
    return commands


def parse_reply_markup(name: str, markup: Any) -> dict[str, Any]:
    if not isinstance(markup, dict):
        raise BadRequest("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return parse_inline_markup(name, markup)
    if "keyboard" in markup:
        validate_rows(markup["keyboard"], "keyboard", "ReplyKeyboardMarkup", validate_keyboard_button)
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise BadRequest("can't parse reply keyboard markup JSON object")
    return markup


def parse_inline_markup(name: str, markup: Any) -> dict[str, Any]:
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        raise BadRequest("can't parse inline keyboard markup JSON object")
    validate_rows(markup["inline_keyboard"], "inline_keyboard", "InlineKeyboardMarkup", validate_inline_button)
    return markup


def validate_rows(rows: Any, field: str, type_name: str, validate_button: Callable[[Any], None]) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise BadRequest(f'field "{field}" of the {type_name} should be an Array of Arrays')
    for row in rows:
        for button in row:
            validate_button(button)


def validate_inline_button(button: Any) -> None:
    def fail(reason: str) -> BadRequest:
        return BadRequest(f"can't parse inline keyboard button: {reason}")

    if not isinstance(button, dict):
        raise fail("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise fail('Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise fail('Field "text" must be of type String')
    actions = [action for action in INLINE_BUTTON_ACTIONS if action in button]
    if not actions:
        raise fail("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise fail(f"exactly one of {', '.join(INLINE_BUTTON_ACTIONS)} must be used, got {', '.join(actions)}")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise BadRequest("BUTTON_DATA_INVALID")
    if "url" in button and not (isinstance(button["url"], str)
                                and re.match(r"^(https?|tg)://\S+$", button["url"])):
        raise BadRequest("BUTTON_URL_INVALID")


def validate_keyboard_button(button: Any) -> None:
    if isinstance(button, str):
        return
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise BadRequest("can't parse keyboard button: KeyboardButton must be a String or an Object with "
                         'a String field "text"')
    for request_field in ("request_users", "request_chat"):
        if request_field not in button:
            continue
        request = button[request_field]
        if not isinstance(request, dict) or isinstance(request.get("request_id"), bool) \
                or not isinstance(request.get("request_id"), int):
            raise BadRequest(f'can\'t parse keyboard button: field "{request_field}" must be an Object '
                             'with an Integer field "request_id"')


PARAM_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "integer": parse_integer, "chat_id": parse_chat_id, "string": parse_string, "boolean": parse_boolean,
    "parse_mode": parse_parse_mode, "entities": parse_entities, "string_array": parse_string_array,
    "object": parse_object, "input_file": parse_input_file, "chat_action": parse_chat_action,
    "bot_commands": parse_bot_commands, "reply_markup": parse_reply_markup,
    "inline_markup": parse_inline_markup,
}
JSON_KINDS = frozenset({"entities", "string_array", "object", "bot_commands", "reply_markup", "inline_markup"})


@dataclass(frozen=True)
class Param:
    kind: str
    required: bool = False
    missing: str = ""  # Telegram's wording when the parameter is absent, if it has its own


@dataclass(frozen=True)
class MethodSpec:
    name: str
    params: dict[str, Param]
    answer: Callable[[SandboxState, dict[str, Any], str], Any]
    checks: tuple[Callable[[dict[str, Any]], None], ...] = ()


def validate_params(spec: MethodSpec, raw: dict[str, Any]) -> dict[str, Any]:
    params = dict(raw)  # unknown parameters pass through untouched, as Telegram ignores them
    for name, param in spec.params.items():
        value = raw.get(name)
        if value is None or value == "":
            params.pop(name, None)
            if param.required:
                raise BadRequest(param.missing or f'parameter "{name}" is required')
            continue
        if param.kind in JSON_KINDS and isinstance(value, str):
            value = decode_json_param(name, value)
        params[name] = PARAM_PARSERS[param.kind](name, value)
    for check in spec.checks:
        check(params)
    return params


def decode_json_param(name: str, value: str) -> Any:
    """Form and query encodings carry objects and arrays as JSON text."""
    try:
        return json.loads(value)
    except ValueError:
        subject = "reply keyboard markup" if name == "reply_markup" else name
        raise BadRequest(f"can't parse {subject} JSON object") from None


def best_effort_decode(spec: MethodSpec | None, raw: dict[str, Any]) -> dict[str, Any]:
    """Decode JSON-in-form parameters for the record even when the call failed validation."""
    decoded = dict(raw)
    for name, param in (spec.params.items() if spec else ()):
        if param.kind in JSON_KINDS and isinstance(raw.get(name), str):
            try:
                decoded[name] = json.loads(raw[name])
            except ValueError:
                pass
    return decoded


# --- method-specific rules ------------------------------------------------------------------------


def visible_text(text: str, parse_mode: str | None) -> str:
    return parse_html_text(text) if parse_mode == "HTML" else text


def text_rule(text_key: str, mode_key: str, *, limit: int, too_long: str,
              empty: str | None = None) -> Callable[[dict[str, Any]], None]:
    """Length and markup rules of a formatted text; `empty` set means the text may not be blank."""
    def check(params: dict[str, Any]) -> None:
        text = params.get(text_key)
        if text is None:
            if empty:
                raise BadRequest(empty)
            return
        if len(text) > limit:
            raise BadRequest(too_long)
        if not visible_text(text, params.get(mode_key)).strip() and empty:
            raise BadRequest(empty)
    return check


def require_message_target(params: dict[str, Any]) -> None:
    if "inline_message_id" in params:
        return
    if "chat_id" not in params:
        raise BadRequest("chat_id is empty")
    if "message_id" not in params:
        raise BadRequest("message identifier is not specified")


def require_premium_price(params: dict[str, Any]) -> None:
    months, stars = params["month_count"], params["star_count"]
    if months not in PREMIUM_STAR_PRICES:
        raise BadRequest("month_count must be one of 3, 6 or 12")
    if stars != PREMIUM_STAR_PRICES[months]:
        raise BadRequest(f"star_count must be {PREMIUM_STAR_PRICES[months]} for {months} months")


def require_short_callback_answer(params: dict[str, Any]) -> None:
    if len(params.get("text", "")) > MAX_CALLBACK_ANSWER_LENGTH:
        raise BadRequest("MESSAGE_TOO_LONG")


def require_webhook_settings(params: dict[str, Any]) -> None:
    url = params.get("url", "")
    # http is accepted too so a local backend can be the target; Telegram itself insists on https
    if url and not re.match(r"^https?://[^\s/]+", url):
        raise BadRequest("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", secret):
        raise BadRequest("secret token contains unallowed characters")


# --- answers --------------------------------------------------------------------------------------


def bot_user(token: str) -> dict[str, Any]:
    prefix = token.split(":", 1)[0]
    return {"id": int(prefix) if prefix.isdigit() else 1, "is_bot": True,
            "first_name": "tgshop sandbox", "username": "tgshop_sandbox_bot"}


def chat_for(chat_id: int | str) -> dict[str, Any]:
    if isinstance(chat_id, str):
        # a stable made-up id, so repeated sends to one @channel agree with each other
        return {"id": -1000000000000 - zlib.crc32(chat_id.encode()), "type": "channel", "username": chat_id[1:]}
    return {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}


def build_message(token: str, chat_id: int | str, message_id: int, **content: Any) -> dict[str, Any]:
    message = {"message_id": message_id, "from": bot_user(token), "date": int(time.time()),
               "chat": chat_for(chat_id)}
    message.update({key: value for key, value in content.items() if value is not None})
    return message


def echoed_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    # Telegram echoes only inline keyboards back in the Message
    markup = params.get("reply_markup")
    return markup if markup and "inline_keyboard" in markup else None


def answer_send_message(state: SandboxState, params: dict[str, Any], token: str) -> dict[str, Any]:
    message = build_message(token, params["chat_id"], state.next_message_id(),
                            text=visible_text(params["text"], params.get("parse_mode")),
                            reply_markup=echoed_markup(params))
    state.chat_bot_message(message, params["text"], params.get("parse_mode"), params.get("reply_markup"))
    return message


def answer_edit(state: SandboxState, params: dict[str, Any], token: str) -> Any:
    if "inline_message_id" in params:
        return True  # Telegram has no Message to return for inline messages
    text = params.get("text")
    state.chat_edit(params["chat_id"], params["message_id"], text, params.get("parse_mode"),
                    params.get("reply_markup"))
    return build_message(token, params["chat_id"], params["message_id"], edit_date=int(time.time()),
                         text=visible_text(text, params.get("parse_mode")) if text is not None else None,
                         reply_markup=echoed_markup(params))


def answer_send_document(state: SandboxState, params: dict[str, Any], token: str) -> dict[str, Any]:
    message_id = state.next_message_id()
    document = params["document"]
    file_info = {"file_id": f"sandbox-document-{message_id}", "file_unique_id": f"sandbox-{message_id}"}
    if isinstance(document, dict):
        file_info.update(file_name=document["filename"], file_size=document["size"])
    caption = params.get("caption")
    message = build_message(token, params["chat_id"], message_id, document=file_info,
                            caption=visible_text(caption, params.get("parse_mode")) if caption else None,
                            reply_markup=echoed_markup(params))
    state.chat_bot_message(message, caption or "", params.get("parse_mode") if caption else None,
                           params.get("reply_markup"), attachment=f"📄 {file_info.get('file_name', 'document')}")
    return message


def answer_gift_premium(state: SandboxState, params: dict[str, Any], token: str) -> bool:
    state.spend_stars(params["star_count"])
    return True


def answer_set_webhook(state: SandboxState, params: dict[str, Any], token: str) -> bool:
    state.set_webhook(params.get("url", ""), params.get("allowed_updates"), params.get("max_connections", 40))
    return True


def answer_true(state: SandboxState, params: dict[str, Any], token: str) -> bool:
    return True


def answer_get_updates(state: SandboxState, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
    """Updates the web chat queued while no webhook target is set (a long-polling client's view)."""
    limit = min(max(params.get("limit", 100), 1), 100)
    timeout = min(max(params.get("timeout", 0), 0), MAX_POLL_WAIT_SECONDS)
    return state.take_updates(params.get("offset", 0), limit, timeout, params.get("allowed_updates"))



CHAT_ID = Param("chat_id", required=True, missing="chat_id is empty")
MESSAGE_ID = Param("integer", required=True, missing="message identifier is not specified")
SEND_OPTIONS = {"message_thread_id": Param("integer"), "disable_notification": Param("boolean"),
                "protect_content": Param("boolean"), "reply_parameters": Param("object"),
                "reply_markup": Param("reply_markup")}
EDIT_TARGET = {"chat_id": Param("chat_id"), "message_id": Param("integer"), "inline_message_id": Param("string"),
               "reply_markup": Param("inline_markup")}

METHOD_SPECS = [
    MethodSpec("getMe", {}, lambda state, params, token: bot_user(token)),
    MethodSpec("sendMessage", {
        "chat_id": CHAT_ID, "text": Param("string", required=True, missing="message text is empty"),
        "parse_mode": Param("parse_mode"), "entities": Param("entities"),
        "link_preview_options": Param("object"), **SEND_OPTIONS,
    }, answer_send_message, checks=(text_rule("text", "parse_mode", limit=MAX_MESSAGE_LENGTH,
                                              too_long="message is too long", empty="message text is empty"),)),
    MethodSpec("editMessageText", {
        **EDIT_TARGET, "text": Param("string", required=True, missing="message text is empty"),
        "parse_mode": Param("parse_mode"), "entities": Param("entities"), "link_preview_options": Param("object"),
    }, answer_edit, checks=(require_message_target, text_rule(
        "text", "parse_mode", limit=MAX_MESSAGE_LENGTH, too_long="message is too long",
        empty="message text is empty"))),
    MethodSpec("editMessageReplyMarkup", EDIT_TARGET, answer_edit, checks=(require_message_target,)),
    MethodSpec("deleteMessage", {"chat_id": CHAT_ID, "message_id": MESSAGE_ID},
               lambda state, params, token: state.chat_delete(params["chat_id"], params["message_id"]) or True),
    MethodSpec("answerCallbackQuery", {
        "callback_query_id": Param("string", required=True), "text": Param("string"),
        "show_alert": Param("boolean"), "url": Param("string"), "cache_time": Param("integer"),
    }, answer_true, checks=(require_short_callback_answer,)),
    MethodSpec("sendDocument", {
        "chat_id": CHAT_ID, "document": Param("input_file", required=True,
                                              missing="there is no document in the request"),
        "caption": Param("string"), "parse_mode": Param("parse_mode"), "caption_entities": Param("entities"),
        "disable_content_type_detection": Param("boolean"), **SEND_OPTIONS,
    }, answer_send_document, checks=(text_rule("caption", "parse_mode", limit=MAX_CAPTION_LENGTH,
                                               too_long="message caption is too long"),)),
    MethodSpec("sendChatAction", {
        "chat_id": CHAT_ID, "action": Param("chat_action", required=True,
                                            missing="wrong parameter action in request"),
        "message_thread_id": Param("integer"),
    }, answer_true),
    MethodSpec("giftPremiumSubscription", {
        "user_id": Param("integer", required=True, missing="invalid user_id specified"),
        "month_count": Param("integer", required=True), "star_count": Param("integer", required=True),
        "text": Param("string"), "text_parse_mode": Param("parse_mode"), "text_entities": Param("entities"),
    }, answer_gift_premium, checks=(require_premium_price, text_rule(
        "text", "text_parse_mode", limit=MAX_GIFT_TEXT_LENGTH, too_long="text is too long"))),
    MethodSpec("getMyStarBalance", {}, lambda state, params, token: {"amount": state.star_balance}),
    MethodSpec("setWebhook", {
        "url": Param("string", required=True), "secret_token": Param("string"),
        "allowed_updates": Param("string_array"), "max_connections": Param("integer"),
        "drop_pending_updates": Param("boolean"), "ip_address": Param("string"),
    }, answer_set_webhook, checks=(require_webhook_settings,)),
    MethodSpec("deleteWebhook", {"drop_pending_updates": Param("boolean")},
               lambda state, params, token: state.delete_webhook() or True),
    MethodSpec("getWebhookInfo", {}, lambda state, params, token: state.webhook_info()),
    MethodSpec("setMyCommands", {
        "commands": Param("bot_commands", required=True), "scope": Param("object"),
        "language_code": Param("string"),
    }, answer_true),
    MethodSpec("getUpdates", {
        "offset": Param("integer"), "limit": Param("integer"), "timeout": Param("integer"),
        "allowed_updates": Param("string_array"),
    }, answer_get_updates),  # refused with 409 while a webhook is set (call_method)
]
METHODS = {spec.name.lower(): spec for spec in METHOD_SPECS}  # Telegram matches names case-insensitively


# --- state ----------------------------------------------------------------------------------------


@dataclass
class FaultRule:
    method: str
    times: int = 1
    error_code: int | None = None
    description: str | None = None
    retry_after: int | None = None
    delay_seconds: float = 0.0

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


# --- HTTP -----------------------------------------------------------------------------------------


def collect_params(request: flask.Request) -> dict[str, Any]:
    """Merge query string and body the way Telegram does: JSON, urlencoded or multipart."""
    params: dict[str, Any] = dict(request.args.items())
    if request.mimetype == "application/json" and request.get_data():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest("can't parse JSON encoded request")
        params.update(body)
        return params
    params.update(request.form.items())
    for name, upload in request.files.items():
        content = upload.read()
        params[name] = {"filename": upload.filename, "size": len(content),
                        "content": content[:DOCUMENT_PREVIEW_BYTES].decode("utf-8", errors="replace")}
    for name, value in list(params.items()):
        # "attach://<field>" points at another multipart field holding the file
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in request.files:
            params[name] = params[value[9:]]
    return params


def call_method(state: SandboxState, token_pattern: re.Pattern[str], token: str, method_name: str,
                raw: dict[str, Any], unreadable: BadRequest | None = None,
                ) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Answer one Bot API call; returns status, JSON body and the params to record.

    `unreadable` is the error from reading the request body: Telegram checks the token and the
    method name before it complains about the body.
    """
    spec = METHODS.get(method_name.lower())
    if not token_pattern.fullmatch(token):
        return 401, error_body(401, "Unauthorized"), best_effort_decode(spec, raw)
    if spec is None:
        return 404, error_body(404, "Not Found"), raw
    fault = state.take_fault(spec.name)
    if fault is not None:
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        response = fault.response()
        if response is not None:
            return response["error_code"], response, best_effort_decode(spec, raw)
    if unreadable is not None:
        return 400, error_body(400, unreadable.description), raw
    if spec.name == "getUpdates" and state.has_webhook():
        return 409, error_body(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first"), raw
    try:
        params = validate_params(spec, raw)
        return 200, {"ok": True, "result": spec.answer(state, params, token)}, params
    except BadRequest as error:
        return 400, error_body(400, error.description), best_effort_decode(spec, raw)


def json_response(body: Any, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def parse_fault(body: Any) -> FaultRule:
    """Validate a POST /_sandbox/faults body; raises ValueError with a message for the caller."""
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    spec = METHODS.get(str(body.get("method", "")).lower())
    if spec is None:
        raise ValueError(f"unknown method {body.get('method')!r}")

    def number(key: str, kind: type, default: Any, minimum: float) -> Any:
        value = body.get(key, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int) \
                or value < minimum:
            raise ValueError(f"{key} must be a number >= {minimum}")
        return value

    rule = FaultRule(method=spec.name, times=number("times", int, 1, 1),
                     error_code=number("error_code", int, None, 400),
                     retry_after=number("retry_after", int, None, 0),
                     delay_seconds=number("delay_seconds", float, 0.0, 0),
                     description=body.get("description"))
    if rule.error_code is not None and rule.error_code > 599:
        raise ValueError("error_code must be between 400 and 599")
    if rule.description is not None and not isinstance(rule.description, str):
        raise ValueError("description must be a string")
    if rule.error_code is None and not rule.delay_seconds:
        raise ValueError("a fault needs error_code, delay_seconds or both")
    return rule


def create_sandbox_app(*, bot_token_pattern: str = DEFAULT_TOKEN_PATTERN, webhook_target: str | None = None,
                       webhook_secret: str | None = None, payment_target: str | None = None,
                       payment_secret: str | None = None, usdt_contract: str = DEFAULT_USDT_CONTRACT,
                       http_transport: Any = None, clock: Callable[[], float] = time.time) -> flask.Flask:
    """The fake Bot API and the web chat. `webhook_target`/`webhook_secret`: where the chat's updates
    go (none: they wait for getUpdates). `payment_target`/`payment_secret`/`usdt_contract`: the TRC20
    webhook that "Simulate payment" signs and posts to. `http_transport`: an httpx transport for
    those posts (tests route them into an app in the same process); `clock`: the time payments are
    signed at (a test's fake clock)."""
    app = flask.Flask(__name__)
    app.config.update(SANDBOX_WEBHOOK_TARGET=webhook_target, SANDBOX_WEBHOOK_SECRET=webhook_secret,
                      SANDBOX_PAYMENT_TARGET=payment_target, SANDBOX_PAYMENT_SECRET=payment_secret,
                      SANDBOX_USDT_CONTRACT=usdt_contract, MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES)
    state = SandboxState()
    app.extensions["sandbox"] = state
    token_pattern = re.compile(bot_token_pattern)
    register_chat_routes(app, state, ChatRelay(app, state, http_transport, clock))

    @app.route("/bot<token>/<method_name>", methods=["GET", "POST"])
    def bot_api(token: str, method_name: str) -> flask.Response:
        spec = METHODS.get(method_name.lower())
        try:
            raw, unreadable = collect_params(flask.request), None
        except BadRequest as error:
            raw, unreadable = {}, error
        status, body, params = call_method(state, token_pattern, token, method_name, raw, unreadable)
        state.record_call(spec.name if spec else method_name, params, token, status, body)
        return json_response(body, status)

    @app.get("/_sandbox/calls")
    def list_calls() -> flask.Response:
        return json_response(state.calls(flask.request.args.get("method") or None))

    @app.delete("/_sandbox/calls")
    def clear_calls() -> flask.Response:
        state.clear_calls()
        return json_response({"ok": True})

    @app.get("/_sandbox/faults")
    def list_faults() -> flask.Response:
        return json_response(state.faults())

    @app.post("/_sandbox/faults")
    def add_fault() -> flask.Response:
        try:
            rule = parse_fault(flask.request.get_json(silent=True))
        except ValueError as error:
            return json_response({"ok": False, "description": str(error)}, 400)
        state.add_fault(rule)
        return json_response({"ok": True, "fault": dataclasses.asdict(rule)})

    @app.delete("/_sandbox/faults")
    def clear_faults() -> flask.Response:
        state.clear_faults()
        return json_response({"ok": True})

    @app.get("/_sandbox/star-balance")
    def get_star_balance() -> flask.Response:
        return json_response({"amount": state.star_balance})

    @app.put("/_sandbox/star-balance")
    def put_star_balance() -> flask.Response:
        body = flask.request.get_json(silent=True)
        amount = body.get("amount") if isinstance(body, dict) else None
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            return json_response({"ok": False, "description": "amount must be an integer >= 0"}, 400)
        state.set_star_balance(amount)
        return json_response({"amount": amount})

    @app.post("/_sandbox/reset")
    def reset() -> flask.Response:
        state.reset()
        return json_response({"ok": True})

    @app.get("/calls")
    def calls_page() -> flask.Response:
        return flask.Response(render_calls_page(state.calls()), mimetype="text/html")

    @app.errorhandler(404)
    def not_found(error: Exception) -> flask.Response:
        return json_response(error_body(404, "Not Found"), 404)

    @app.errorhandler(413)
    def too_large(error: Exception) -> flask.Response:
        return json_response(error_body(413, "Request Entity Too Large"), 413)

    return app


# --- the web chat -------------------------------------------------------------------------------

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
    return [[{key: button[key] for key in ("text", "callback_data", "url") if key in button} for button in row]
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
        transfer = {"transaction_id": f"sandbox{time.time_ns():x}", "block_timestamp": int(time.time() * 1000),
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
    def chat_page() -> flask.Response:
        return flask.Response(CHAT_PAGE, mimetype="text/html")

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


CHAT_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Telegram sandbox chat</title>
<style>
  * { box-sizing: border-box; }
  body { font: 14px system-ui, sans-serif; margin: 0; background: #e6ebee; color: #111; }
  header { background: #517da2; color: #fff; padding: .5rem 1rem; display: flex; gap: .6rem; align-items: center;
           flex-wrap: wrap; }
  header h1 { font-size: 1rem; margin: 0 1rem 0 0; }
  header input, header select { width: 8rem; padding: .2rem; }
  header a { color: #fff; margin-left: auto; }
  main { max-width: 46rem; margin: 0 auto; padding: 1rem; display: flex; flex-direction: column; gap: .5rem;
         min-height: calc(100vh - 9rem); }
  .message { max-width: 80%; padding: .5rem .7rem; border-radius: .6rem; white-space: pre-wrap;
             word-wrap: break-word; box-shadow: 0 1px 1px rgba(0,0,0,.1); }
  .bot { background: #fff; align-self: flex-start; }
  .user { background: #effdde; align-self: flex-end; }
  .edited::after { content: " (edited)"; color: #888; font-size: .75rem; }
  .buttons { display: flex; flex-direction: column; gap: .25rem; margin-top: .4rem; }
  .row { display: flex; gap: .25rem; }
  .row button { flex: 1; padding: .4rem; border: 0; border-radius: .4rem; background: #e3eef7; color: #2a5885;
                cursor: pointer; }
  code { background: #f1f1f1; padding: 0 .2rem; cursor: copy; }
  .spoiler { background: #ccc; color: transparent; }
  .spoiler:hover { color: inherit; }
  footer { position: sticky; bottom: 0; background: #fff; padding: .5rem 1rem; border-top: 1px solid #ccc; }
  #keyboard { display: flex; gap: .3rem; flex-wrap: wrap; margin-bottom: .4rem; }
  #keyboard button { padding: .4rem .6rem; }
  form { display: flex; gap: .4rem; max-width: 46rem; margin: 0 auto; }
  form input { flex: 1; padding: .5rem; }
  #status { color: #a00; font-size: .8rem; max-width: 46rem; margin: .2rem auto 0; min-height: 1em; }
</style>
</head>
<body>
<header>
  <h1>Telegram sandbox</h1>
  <label>user id <input id="user-id" value="1001"></label>
  <label>name <input id="first-name" value="Ann"></label>
  <label>@ <input id="username" value="ann_local"></label>
  <label>language <select id="language"><option>en</option><option>zh</option><option>ru</option></select></label>
  <button id="pay" type="button">Simulate payment</button>
  <a href="/calls">Bot API calls</a>
</header>
<main id="messages"></main>
<footer>
  <div id="keyboard"></div>
  <form id="composer"><input id="text" placeholder="Message (try /start)" autocomplete="off">
  <button type="submit">Send</button></form>
  <div id="status"></div>
</footer>
<script>
// Bot messages arrive as HTML the sandbox rebuilt from a whitelist of tags (render_html); everything
// else on this page is set with textContent.
const $ = (id) => document.getElementById(id);
let lastSnapshot = "";
function user() {
  return {user_id: Number($("user-id").value), first_name: $("first-name").value,
          username: $("username").value, language_code: $("language").value};
}
async function post(path, extra) {
  $("status").textContent = "";
  const response = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                      body: JSON.stringify({...user(), ...extra})});
  const result = await response.json();
  if (!response.ok || result.ok === false) {
    $("status").textContent = result.description || result.error || ("HTTP " + (result.status || response.status));
  }
  await refresh();
  return result;
}
function renderMessage(message) {
  const box = document.createElement("div");
  box.className = "message " + message.from + (message.edited ? " edited" : "");
  box.dataset.messageId = String(message.message_id);
  const body = document.createElement("div");
  body.className = "body";
  body.innerHTML = message.html;
  body.querySelectorAll("code").forEach((code) => code.addEventListener("click",
    () => navigator.clipboard && navigator.clipboard.writeText(code.textContent)));
  box.append(body);
  if (message.buttons.length) {
    const buttons = document.createElement("div");
    buttons.className = "buttons";
    for (const row of message.buttons) {
      const line = document.createElement("div");
      line.className = "row";
      for (const button of row) {
        const element = document.createElement("button");
        element.type = "button";
        element.textContent = button.text;
        if (button.callback_data !== undefined) {
          element.dataset.callbackData = button.callback_data;
          element.addEventListener("click", () => post("/_sandbox/chat/press",
            {message_id: message.message_id, data: button.callback_data}));
        } else if (button.url) {
          element.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
        }
        line.append(element);
      }
      buttons.append(line);
    }
    box.append(buttons);
  }
  return box;
}
function renderKeyboard(keyboard) {
  const area = $("keyboard");
  area.replaceChildren();
  if (!keyboard) return;
  for (const row of keyboard.keyboard) {
    for (const button of row) {
      const text = typeof button === "string" ? button : button.text;
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = text;
      if (button.request_users) {
        element.addEventListener("click", () => {
          const picked = prompt("Share which user? id,name[,username]", "2002,Bob,bob_local");
          if (!picked) return;
          const [id, name, username] = picked.split(",").map((part) => part.trim());
          post("/_sandbox/chat/share", {request_id: button.request_users.request_id,
                                        shared: {user_id: Number(id), first_name: name, username: username}});
        });
      } else {
        element.addEventListener("click", () => post("/_sandbox/chat/send", {text: text}));
      }
      area.append(element);
    }
  }
}
async function refresh() {
  try {
    const response = await fetch("/_sandbox/chats/" + Number($("user-id").value), {cache: "no-store"});
    const chat = await response.json();
    const snapshot = JSON.stringify(chat);
    if (snapshot === lastSnapshot) return;
    lastSnapshot = snapshot;
    $("messages").replaceChildren(...chat.messages.map(renderMessage));
    renderKeyboard(chat.keyboard);
    window.scrollTo(0, document.body.scrollHeight);
  } catch (error) {
    // the sandbox may be restarting; the next tick tries again
  }
}
$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value;
  if (!text.trim()) return;
  $("text").value = "";
  post("/_sandbox/chat/send", {text: text});
});
$("pay").addEventListener("click", () => post("/_sandbox/chat/pay", {}));
$("user-id").addEventListener("change", () => { lastSnapshot = ""; refresh(); });
setInterval(refresh, 700);
refresh();
</script>
</body>
</html>
"""


# --- calls page -----------------------------------------------------------------------------------

CALLS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Telegram sandbox</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  pre { margin: 0; white-space: pre-wrap; word-break: break-all; }
  tr.failed td { background: #fdecea; }
</style>
</head>
<body>
<h1>Telegram sandbox</h1>
<p><span id="count">__COUNT__</span> recorded calls, newest last. <a href="/">The chat</a></p>
<table>
<thead><tr><th>#</th><th>method</th><th>params</th><th>status</th><th>at</th></tr></thead>
<tbody id="calls">
__ROWS__
</tbody>
</table>
<script>
// Rows are rebuilt with textContent only, so recorded params can never inject markup.
const tableBody = document.getElementById("calls");
function cell(content) {
  const td = document.createElement("td");
  td.append(content);
  return td;
}
function renderRow(call) {
  const row = document.createElement("tr");
  if (call.status >= 400) row.className = "failed";
  const params = document.createElement("pre");
  params.textContent = JSON.stringify(call.params, null, 2);
  row.append(cell(String(call.seq)), cell(call.method), cell(params), cell(String(call.status)), cell(call.at));
  return row;
}
async function refresh() {
  try {
    const response = await fetch("/_sandbox/calls", {cache: "no-store"});
    const calls = await response.json();
    tableBody.replaceChildren(...calls.map(renderRow));
    document.getElementById("count").textContent = String(calls.length);
  } catch (error) {
    // the sandbox may be restarting; the next tick tries again
  }
}
setInterval(refresh, 2000);
</script>
</body>
</html>
"""


def render_calls_page(calls: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        f'<tr class="{"failed" if call["status"] >= 400 else ""}"><td>{call["seq"]}</td>'
        f'<td>{html.escape(call["method"])}</td>'
        f'<td><pre>{html.escape(json.dumps(call["params"], indent=2, ensure_ascii=False))}</pre></td>'
        f'<td>{call["status"]}</td><td>{html.escape(call["at"])}</td></tr>'
        for call in calls)
    return CALLS_PAGE.replace("__COUNT__", str(len(calls))).replace("__ROWS__", rows)


# --- serving --------------------------------------------------------------------------------------


class SandboxServer:
    """A sandbox app served over real HTTP from a daemon thread."""

    def __init__(self, host: str, port: int, app: flask.Flask) -> None:
        self.app = app
        self._server = make_server(host, port, app, threaded=True)
        url_host = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
        self.url = f"http://{url_host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="telegram-sandbox", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


def serve_sandbox(host: str, port: int, **app_kwargs: Any) -> SandboxServer:
    """Start the sandbox on host:port (0 picks a free port) and return at once."""
    return SandboxServer(host, port, create_sandbox_app(**app_kwargs))
