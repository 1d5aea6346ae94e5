"""Bot API parameters: reading them from a request, Telegram's types and rules, and its HTML parse mode.

Validation follows Telegram's rules and error wording for the parameters tgshop sends, so a malformed
request fails locally instead of in production.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

import flask

from devstack.sandbox.responses import BadRequest

MAX_CALLBACK_DATA_BYTES = 64
DOCUMENT_PREVIEW_BYTES = 64 * 1024

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



def visible_text(text: str, parse_mode: str | None) -> str:
    return parse_html_text(text) if parse_mode == "HTML" else text


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


def decode_json_param(name: str, value: str) -> Any:
    """Form and query encodings carry objects and arrays as JSON text."""
    try:
        return json.loads(value)
    except ValueError:
        subject = "reply keyboard markup" if name == "reply_markup" else name
        raise BadRequest(f"can't parse {subject} JSON object") from None


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
