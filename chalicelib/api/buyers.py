"""The catalog, orders and the buyer's view of them, for the Mini App front end (X-Telegram-Init-Data)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import current_buyer
from chalicelib.api.http import guarded, json_response, parse_body, parse_query
from chalicelib.api.openapi import operation

buyers = Blueprint(__name__)


def _container():
    from chalicelib.container import get_container

    return get_container()


def _order_view(order) -> dict:
    """An order as its buyer sees it, with the facts its product adds (e.g. the gift's recipient) and how to
    pay it with its method."""
    from chalicelib.api.views import order_view

    container = _container()
    return order_view(order, container.settings.amount_suffix_decimals,
                      container.products.by_kind(order.kind).facts(order),
                      container.payment_methods.instructions(order))


@buyers.route("/catalog", methods=["GET"])
@operation(summary="The products on sale with their prices", tag="buyers", response="Catalog")
@guarded
def get_catalog():
    from chalicelib.api.views import list_view, offer_view

    return json_response(list_view("products", _container().products.offers(), offer_view))


@buyers.route("/orders", methods=["POST"])
@operation(summary="Place an order", tag="buyers", auth="buyer", body="CreateOrderRequest", response="OrderAnswer",
           status=201, errors=(404, 409, 422, 429), headers=("Idempotency-Key",))
@guarded
def create_order():
    """With an Idempotency-Key, a retry of the same body returns the first answer (see `run_once`)."""
    from chalicelib.api.idempotency import run_once
    from chalicelib.api.requests import CreateOrderRequest
    from chalicelib.domain.products import Buyer

    request = buyers.current_request
    buyer = current_buyer(request)
    body = parse_body(request.raw_body, CreateOrderRequest)

    def place(order: CreateOrderRequest) -> dict:
        return _order_view(_container().ordering.place(Buyer(buyer.user_id, buyer.language_code), order.product_id,
                                                       order.choice(), order.payment_method))

    view = run_once(body, f"user:{buyer.user_id}", request.headers.get("idempotency-key"), place,
                    buyers.lambda_context)
    return json_response(view, 201)


@buyers.route("/orders", methods=["GET"])
@operation(summary="The buyer's orders, newest first", tag="buyers", auth="buyer", query="PageQuery",
           response="OrderPage")
@guarded
def list_orders():
    from chalicelib.api.requests import PageQuery
    from chalicelib.api.views import page_view
    from chalicelib.domain.users import owner_for_user

    request = buyers.current_request
    buyer = current_buyer(request)
    query = parse_query(request.query_params, PageQuery)
    page = _container().ordering.list_owned(owner_for_user(buyer.user_id), query.limit, query.cursor)
    return json_response(page_view("orders", page, _order_view))


@buyers.route("/orders/{order_id}", methods=["GET"])
@operation(summary="One of the buyer's orders", tag="buyers", auth="buyer", response="OrderAnswer")
@guarded
def get_order(order_id: str):
    from chalicelib.domain.users import owner_for_user

    buyer = current_buyer(buyers.current_request)
    return json_response(_order_view(_container().ordering.get_owned(order_id, owner_for_user(buyer.user_id))))


@buyers.route("/orders/{order_id}/cancel", methods=["POST"])
@operation(summary="Cancel an unpaid order", tag="buyers", auth="buyer", response="OrderAnswer", errors=(409,))
@guarded
def cancel_order(order_id: str):
    from chalicelib.domain.users import owner_for_user

    buyer = current_buyer(buyers.current_request)
    return json_response(_order_view(_container().ordering.cancel(order_id, owner_for_user(buyer.user_id))))


@buyers.route("/wallet", methods=["GET"])
@operation(summary="The buyer's wallet balance", tag="buyers", auth="buyer", response="WalletAnswer")
@guarded
def get_wallet():
    from chalicelib.api.views import balance_view
    from chalicelib.domain.users import owner_for_user

    buyer = current_buyer(buyers.current_request)
    return json_response({"wallet": balance_view(_container().wallets.balance(owner_for_user(buyer.user_id)))})


@buyers.route("/wallet/history", methods=["GET"])
@operation(summary="The buyer's wallet entries, newest first", tag="buyers", auth="buyer",
           query="PageQuery", response="WalletHistory")
@guarded
def get_wallet_history():
    """Every entry of the buyer's wallet with what it was for, newest first."""
    from chalicelib.api.requests import PageQuery
    from chalicelib.api.views import page_view, wallet_line_view
    from chalicelib.domain.users import owner_for_user

    request = buyers.current_request
    buyer = current_buyer(request)
    query = parse_query(request.query_params, PageQuery)
    page = _container().wallets.history(owner_for_user(buyer.user_id), query.limit, query.cursor)
    return json_response(page_view("entries", page, wallet_line_view))
