"""The catalog, orders and the buyer's view of them, for the Mini App front end."""
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


def buyer_order_view(order) -> dict:
    from chalicelib.api.views import order_view

    container = _container()
    return order_view(order, container.settings.amount_suffix_decimals,
                      container.products.by_kind(order.kind).facts(order))


@buyers.route("/catalog", methods=["GET"])
@guarded
def get_catalog():
    from chalicelib.api.views import offer_view

    return json_response({"products": [offer_view(offer) for offer in _container().products.offers()]})


@buyers.route("/orders", methods=["POST"])
@guarded
def create_order():
    from chalicelib.api.idempotency import run_once
    from chalicelib.api.requests import CreateOrderRequest
    from chalicelib.domain.products import Buyer

    buyer = current_buyer()
    request = parse_body(buyers.current_request.raw_body, CreateOrderRequest)
    ordering = _container().ordering

    def work(request: dict) -> dict:
        order = ordering.place(Buyer(buyer.user_id, buyer.language_code), request["product_id"], request["choice"],
                               request["payment_method"])
        return buyer_order_view(order)

    payload = {"scope": f"user:{buyer.user_id}", "product_id": request.product_id,
               "payment_method": request.payment_method, "choice": request.choice()}
    view = run_once(payload, buyers.current_request.headers.get("idempotency-key"), work,
                    ("product_id", "payment_method", "choice"), buyers.lambda_context)
    return json_response(view, 201)


@buyers.route("/orders", methods=["GET"])
@guarded
def list_orders():
    from chalicelib.domain.users import owner_for_user

    buyer = current_buyer()
    params = buyers.current_request.query_params or {}
    limit = query_int(params, "limit", 20, 1, 100)
    page = _container().ordering.list_owned(owner_for_user(buyer.user_id), limit, params.get("cursor"))
    return json_response({"orders": [buyer_order_view(order) for order in page.items], "cursor": page.cursor})


@buyers.route("/orders/{order_id}", methods=["GET"])
@guarded
def get_order(order_id: str):
    from chalicelib.domain.users import owner_for_user

    buyer = current_buyer()
    return json_response(buyer_order_view(_container().ordering.get_owned(order_id, owner_for_user(buyer.user_id))))


@buyers.route("/orders/{order_id}/cancel", methods=["POST"])
@guarded
def cancel_order(order_id: str):
    from chalicelib.domain.users import owner_for_user

    buyer = current_buyer()
    return json_response(buyer_order_view(_container().ordering.cancel(order_id, owner_for_user(buyer.user_id))))
