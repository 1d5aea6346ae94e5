"""The fake Bot API methods: each one's parameters, its rules and the answer Telegram would give.

`call_method` answers one call the way Telegram does: token first, then the method name, then any
injected fault, then the body and its parameters.
"""
from __future__ import annotations

import json
import re
import time
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from devstack.sandbox.facts import premium_star_prices
from devstack.sandbox.params import JSON_KINDS, PARAM_PARSERS, Param, decode_json_param, visible_text
from devstack.sandbox.responses import BadRequest, error_body

if TYPE_CHECKING:
    from devstack.sandbox.state import SandboxState

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_GIFT_TEXT_LENGTH = 128
MAX_POLL_WAIT_SECONDS = 5  # getUpdates long polls are cut short so a stopping client is not held


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
    months, stars, prices = params["month_count"], params["star_count"], premium_star_prices()
    if months not in prices:
        raise BadRequest(f"month_count must be one of {spoken_list(sorted(prices))}")
    if stars != prices[months]:
        raise BadRequest(f"star_count must be {prices[months]} for {months} months")


def spoken_list(items: list[int]) -> str:
    """[3, 6, 12] as "3, 6 or 12"."""
    words = [str(item) for item in items]
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else "".join(words)


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
        if response is not None and fault.after_acting:
            _, _, params = _answer(state, spec, token, raw, unreadable)
            return response["error_code"], response, params
        if response is not None:
            return response["error_code"], response, best_effort_decode(spec, raw)
    return _answer(state, spec, token, raw, unreadable)


def _answer(state: SandboxState, spec: MethodSpec, token: str, raw: dict[str, Any],
            unreadable: BadRequest | None) -> tuple[int, dict[str, Any], dict[str, Any]]:
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

