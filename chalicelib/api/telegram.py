"""POST /telegram/webhook: Telegram's updates, checked by the secret header, handled once each."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import verify_telegram_webhook
from chalicelib.api.http import guarded, json_response, parse_json
from chalicelib.api.openapi import operation
from chalicelib.observability import logger

telegram = Blueprint(__name__)


def handle_update(update: object) -> str:
    """The one entry for an update, from the webhook or from the local long-poller. Never raises:
    Telegram would retry a failed update and repeat replies the user already saw."""
    from chalicelib.container import get_container

    if isinstance(update, dict) and isinstance(update.get("update_id"), int):
        logger.set_correlation_id(f"update-{update['update_id']}")
        logger.append_keys(update_id=update["update_id"])
    try:
        paid = _payment_update(update)
        if paid is not None:
            return paid
        outcome = get_container().bot.handle_update(update)
    except Exception:  # noqa: BLE001 - logged; the update still counts as answered
        logger.exception("telegram update failed")
        return "failed"
    logger.info("telegram update handled", extra={"result": outcome.result, "bot_api_calls": outcome.calls})
    return outcome.result


def _payment_update(update: object) -> str | None:
    """A Stars payment's pre-checkout query or successful payment, handled apart from the conversation."""
    from chalicelib.bot.payment_updates import parse_payment_update
    payment = parse_payment_update(update)
    if payment is None:
        return None
    from chalicelib.container import get_container
    from chalicelib.domain.payment_methods.stars_payments import PreCheckout

    stars = get_container().stars_payments
    if isinstance(payment, PreCheckout):
        result = "pre_checkout_ok" if stars.pre_checkout(payment) else "pre_checkout_refused"
    else:
        result = f"stars_{stars.paid(payment).outcome.lower()}"
    logger.info("telegram payment update handled", extra={"result": result})
    return result


@telegram.route("/telegram/webhook", methods=["POST"])
@operation(summary="A Telegram update", tag="webhooks", auth="telegram",
           body="chalicelib.api.webhook_bodies:TelegramUpdate", response="TelegramAnswer")
@guarded
def telegram_webhook():
    request = telegram.current_request
    verify_telegram_webhook(request)
    result = handle_update(parse_json(request.raw_body))
    return json_response({"ok": True, "result": result})
