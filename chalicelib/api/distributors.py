"""Distributor routes (Authorization: Bearer <token>): plans, code orders, codes, figures."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.auth import current_distributor
from chalicelib.api.http import guarded, json_response, parse_body, parse_query
from chalicelib.api.openapi import operation

distributors = Blueprint(__name__)


def _container():
    from chalicelib.container import get_container

    return get_container()


def _code_order_view(order) -> dict:
    from chalicelib.api.views import code_order_view

    return code_order_view(order, _container().settings.amount_suffix_decimals)


@distributors.route("/distributors/me", methods=["GET"])
@operation(summary="The calling distributor", tag="distributors", auth="distributor", response="DistributorAnswer")
@guarded
def get_me():
    from chalicelib.api.views import distributor_view

    return json_response({"distributor": distributor_view(current_distributor(distributors.current_request))})


@distributors.route("/distributors/me/plans", methods=["GET"])
@operation(summary="The code pack plans on sale", tag="distributors", auth="distributor", response="PlanList")
@guarded
def list_plans():
    from chalicelib.api.views import list_view, plan_view

    current_distributor(distributors.current_request)
    return json_response(list_view("plans", _container().distributor_desk.plans(), plan_view))


@distributors.route("/distributors/me/orders", methods=["POST"])
@operation(summary="Order a pack of codes", tag="distributors", auth="distributor",
           body="CreateCodeOrderRequest", response="CodeOrderAnswer", status=201, errors=(404, 409, 422, 429))
@guarded
def create_code_order():
    from chalicelib.api.requests import CreateCodeOrderRequest

    request = distributors.current_request
    distributor = current_distributor(request)
    body = parse_body(request.raw_body, CreateCodeOrderRequest)
    order = _container().distributor_desk.create_order(distributor, body.plan_id, body.quantity,
                                                       body.payment_method)
    return json_response(_code_order_view(order), 201)


@distributors.route("/distributors/me/wallet", methods=["GET"])
@operation(summary="The distributor's wallet balance", tag="distributors", auth="distributor",
           response="WalletAnswer")
@guarded
def get_wallet():
    from chalicelib.api.views import balance_view
    from chalicelib.domain.users import owner_for_distributor

    distributor = current_distributor(distributors.current_request)
    balance = _container().wallets.balance(owner_for_distributor(distributor.distributor_id))
    return json_response({"wallet": balance_view(balance)})


@distributors.route("/distributors/me/wallet/history", methods=["GET"])
@operation(summary="The distributor's wallet entries, newest first", tag="distributors",
           auth="distributor", query="PageQuery", response="WalletHistory")
@guarded
def get_wallet_history():
    from chalicelib.api.requests import PageQuery
    from chalicelib.api.views import page_view, wallet_line_view
    from chalicelib.domain.users import owner_for_distributor

    request = distributors.current_request
    distributor = current_distributor(request)
    query = parse_query(request.query_params, PageQuery)
    page = _container().wallets.history(owner_for_distributor(distributor.distributor_id), query.limit, query.cursor)
    return json_response(page_view("entries", page, wallet_line_view))


@distributors.route("/distributors/me/wallet/top-ups", methods=["POST"])
@operation(summary="Top up the distributor's wallet by a transfer", tag="distributors", auth="distributor",
           body="TopUpRequest", response="OrderAnswer", status=201, errors=(409, 422, 429))
@guarded
def create_top_up():
    """A top-up of the distributor's wallet, paid by a unique transfer like a code order."""
    from chalicelib.api.requests import TopUpRequest
    from chalicelib.api.views import order_view

    request = distributors.current_request
    distributor = current_distributor(request)
    body = parse_body(request.raw_body, TopUpRequest)
    container = _container()
    order = container.distributor_desk.top_up(distributor, body.amount)
    return json_response(order_view(order, container.settings.amount_suffix_decimals,
                                    payment=container.payment_methods.instructions(order)), 201)


@distributors.route("/distributors/me/orders", methods=["GET"])
@operation(summary="The distributor's code orders, newest first", tag="distributors", auth="distributor",
           query="PageQuery", response="CodeOrderPage")
@guarded
def list_code_orders():
    from chalicelib.api.requests import PageQuery
    from chalicelib.api.views import page_view

    request = distributors.current_request
    distributor = current_distributor(request)
    query = parse_query(request.query_params, PageQuery)
    page = _container().distributor_desk.orders(distributor, query.limit, query.cursor)
    return json_response(page_view("orders", page, _code_order_view))


@distributors.route("/distributors/me/orders/{order_id}", methods=["GET"])
@operation(summary="One code order with its fulfilment progress", tag="distributors", auth="distributor",
           response="CodeOrderAnswer")
@guarded
def get_code_order(order_id: str):
    distributor = current_distributor(distributors.current_request)
    return json_response(_code_order_view(_container().distributor_desk.order(distributor, order_id)))


@distributors.route("/distributors/me/orders/{order_id}/codes.csv", methods=["GET"])
@operation(summary="An order's codes as CSV, in parts", tag="distributors", auth="distributor",
           query="CsvQuery", media_type="text/csv", errors=(409,))
@guarded
def export_codes(order_id: str):
    """The codes as CSV, in parts of `rows` (default 20,000): a next part is named by the `Link` header
    and `X-Next-Cursor` (pass it as `cursor`). The header row comes with the first part."""
    from chalicelib.api.requests import CsvQuery

    request = distributors.current_request
    distributor = current_distributor(request)
    query = parse_query(request.query_params, CsvQuery)
    text, next_start = _container().distributor_desk.export_csv(distributor, order_id, query.cursor, query.rows)
    headers = {"Content-Type": "text/csv; charset=utf-8",
               "Content-Disposition": f'attachment; filename="codes-{order_id}.csv"'}
    if next_start is not None:
        headers["X-Next-Cursor"] = str(next_start)
        headers["Link"] = (f'</distributors/me/orders/{order_id}/codes.csv?cursor={next_start}&rows={query.rows}>; '
                           'rel="next"')
    return Response(body=text, status_code=200, headers=headers)


@distributors.route("/distributors/me/codes", methods=["GET"])
@operation(summary="The distributor's codes", tag="distributors", auth="distributor", query="CodesQuery",
           response="CodePage")
@guarded
def list_codes():
    from chalicelib.api.requests import CodesQuery
    from chalicelib.api.views import code_view, page_view

    request = distributors.current_request
    distributor = current_distributor(request)
    query = parse_query(request.query_params, CodesQuery)
    container = _container()
    page = container.distributor_desk.codes(distributor, query.status, query.limit, query.cursor)
    now = container.clock.now()  # one instant for the whole page
    return json_response(page_view("codes", page, lambda code: code_view(code, now)))


@distributors.route("/distributors/me/codes/{code}/deactivate", methods=["POST"])
@operation(summary="Deactivate a code", tag="distributors", auth="distributor", response="CodeBody",
           errors=(409,))
@guarded
def deactivate_code(code: str):
    from chalicelib.api.views import code_view

    distributor = current_distributor(distributors.current_request)
    container = _container()
    return json_response(code_view(container.distributor_desk.deactivate(distributor, code), container.clock.now()))


@distributors.route("/distributors/me/summary", methods=["GET"])
@operation(summary="Totals of codes, redemptions and revenue", tag="distributors", auth="distributor",
           response="Summary")
@guarded
def get_summary():
    distributor = current_distributor(distributors.current_request)
    return json_response(_container().distributor_desk.summary(distributor))


@distributors.route("/distributors/me/redemptions", methods=["GET"])
@operation(summary="Redemptions of the distributor's codes, newest first", tag="distributors",
           auth="distributor", query="LongPageQuery", response="RedemptionPage")
@guarded
def list_redemptions():
    from chalicelib.api.requests import LongPageQuery
    from chalicelib.api.views import page_view, redemption_view

    request = distributors.current_request
    distributor = current_distributor(request)
    query = parse_query(request.query_params, LongPageQuery)
    page = _container().distributor_desk.redemptions(distributor, query.limit, query.cursor)
    return json_response(page_view("redemptions", page, redemption_view))


@distributors.route("/distributors/me/sales-trend", methods=["GET"])
@operation(summary="One point per UTC day, oldest first", tag="distributors", auth="distributor",
           query="TrendQuery", response="SalesTrend")
@guarded
def get_sales_trend():
    from chalicelib.api.requests import TrendQuery

    request = distributors.current_request
    distributor = current_distributor(request)
    days = parse_query(request.query_params, TrendQuery).days
    return json_response({"days": days, "points": _container().distributor_desk.sales_trend(distributor, days)})
