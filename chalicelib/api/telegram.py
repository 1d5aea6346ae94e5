"""POST /telegram/webhook: Telegram's updates, checked by the secret header, handled once each."""
from __future__ import annotations

import hmac

from chalice import Blueprint

from chalicelib.api.http import guarded, json_response, parse_json
from chalicelib.domain.errors import Unauthenticated
from chalicelib.observability import logger

telegram = Blueprint(__name__)
SECRET_HEADER = "x-telegram-bot-api-secret-token"


def handle_update(update: object) -> str:
    """The one entry for an update, from the webhook or from the local long-poller. Never raises:
    Telegram would retry a failed update and repeat replies the user already saw."""
    from chalicelib.container import get_container

    if isinstance(update, dict) and isinstance(update.get("update_id"), int):
        logger.set_correlation_id(f"update-{update['update_id']}")
        logger.append_keys(update_id=update["update_id"])
    try:
        outcome = get_container().bot.handle_update(update)
    except Exception:  # noqa: BLE001 - logged; the update still counts as answered
        logger.exception("telegram update failed")
        return "failed"
    logger.info("telegram update handled", extra={"result": outcome.result, "bot_api_calls": outcome.calls})
    return outcome.result


@telegram.route("/telegram/webhook", methods=["POST"])
@guarded
def telegram_webhook():
    from chalicelib.container import get_container

    request = telegram.current_request
    expected = get_container().settings.telegram_webhook_secret.get_secret_value().encode()
    supplied = (request.headers.get(SECRET_HEADER) or "").encode()
    if not hmac.compare_digest(supplied, expected):
        raise Unauthenticated("the secret token header does not match", code="WEBHOOK_SECRET_INVALID")
    result = handle_update(parse_json(request.raw_body))
    return json_response({"ok": True, "result": result})
