"""Catalog, Premium orders and the buyer's view of them, for the Mini App front end."""
from __future__ import annotations


from chalice import Blueprint

from chalicelib.api.http import guarded, json_response, parse_body, query_int

buyers = Blueprint(__name__)


def _container():
    from chalicelib.container import get_container

    return get_container()


def current_buyer():
    """The Telegram user behind X-Telegram-Init-Data, or 401 before anything is read or written."""
    from chalicelib.domain.signatures import validate_init_data

    container = _container()
    settings = container.settings
    return validate_init_data(buyers.current_request.headers.get("x-telegram-init-data"),
                              settings.telegram_bot_token.get_secret_value(), container.clock.now(),
                              settings.init_data_max_age_seconds)


def _amount_places() -> int:
    return _container().settings.amount_suffix_decimals


@buyers.route("/catalog", methods=["GET"])
@guarded
def get_catalog():
    return json_response({"products": [offer.as_dict() for offer in _container().catalog.offers()]})


@buyers.route("/orders", methods=["POST"])
@guarded
def create_order():
    from chalicelib.api.requests import CreateOrderRequest

    buyer = current_buyer()
    request = parse_body(buyers.current_request.raw_body, CreateOrderRequest)
    key = buyers.current_request.headers.get("idempotency-key")
    from chalicelib.api.premium import create_premium_order

    view = create_premium_order(buyer.user_id, request.product_id, request.recipient_user_id or buyer.user_id,
                                key, buyer.language_code, buyers.lambda_context)
    return json_response(view, 201)


@buyers.route("/orders", methods=["GET"])
@guarded
def list_orders():
    from chalicelib.api.views import order_view
    from chalicelib.domain.orders import owner_for_user

    buyer = current_buyer()
    params = buyers.current_request.query_params or {}
    limit = query_int(params, "limit", 20, 1, 100)
    page = _container().ordering.list_owned(owner_for_user(buyer.user_id), limit, params.get("cursor"))
    return json_response({"orders": [order_view(order, _amount_places()) for order in page.items],
                          "cursor": page.cursor})


@buyers.route("/orders/{order_id}", methods=["GET"])
@guarded
def get_order(order_id: str):
    from chalicelib.api.views import order_view
    from chalicelib.domain.orders import owner_for_user

    buyer = current_buyer()
    order = _container().ordering.get_owned(order_id, owner_for_user(buyer.user_id))
    return json_response(order_view(order, _amount_places()))


@buyers.route("/orders/{order_id}/cancel", methods=["POST"])
@guarded
def cancel_order(order_id: str):
    from chalicelib.api.views import order_view
    from chalicelib.domain.orders import owner_for_user

    buyer = current_buyer()
    order = _container().ordering.cancel(order_id, owner_for_user(buyer.user_id))
    return json_response(order_view(order, _amount_places()))
