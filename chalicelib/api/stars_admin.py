"""GET /admin/stars (X-Api-Key): the bot's Star inventory for the operator (income, refunds, gift spending,
the balance and whether it is below the alert threshold), as a typed model the operator panel can render."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_actor
from chalicelib.api.http import guarded, json_response
from chalicelib.api.openapi import operation

stars_admin = Blueprint(__name__)


@stars_admin.route("/admin/stars", methods=["GET"])
@operation(summary="The bot's Star inventory: income, refunds, gift spending and balance", tag="admin",
           auth="admin", response="chalicelib.api.stars_models:StarInventoryView", errors=(503,))
@guarded
def get_star_inventory():
    from chalicelib.api.stars_models import StarInventoryView
    from chalicelib.container import get_container
    from chalicelib.domain.errors import Unavailable
    from chalicelib.domain.ports.telegram import TelegramError, TelegramOutcomeUnknown, TelegramUnreachable

    actor = admin_actor(stars_admin.current_request)
    container = get_container()
    try:
        report = container.star_inventory.report()
    except (TelegramError, TelegramOutcomeUnknown, TelegramUnreachable):
        raise Unavailable("Telegram did not answer for the Star balance; try again shortly",
                          code="TELEGRAM_UNAVAILABLE", retry_after=5) from None
    container.distributors.record_action(actor, "stars.get", None)
    view = StarInventoryView(balance=report.balance, received=report.received, sent_back=report.sent_back,
                             spent_on_gifts=report.spent_on_gifts, gifts=report.gifts,
                             refunded_by_telegram=report.refunded_by_telegram, refunds_unsent=report.refunds_unsent,
                             history_complete=report.history_complete, low_threshold=report.low_threshold,
                             low=report.low)
    return json_response(view.model_dump())
