"""Distributor routes (Authorization: Bearer <token>): plans, code orders, codes, figures."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import guarded, json_response, parse_body, query_int
from chalicelib.domain.errors import ValidationFailed

distributors = Blueprint(__name__)


def _container():
    from chalicelib.container import get_container

    return get_container()


def current_distributor():
    """The distributor behind the bearer token: 401 unknown, 403 disabled, before anything else."""
    return _container().distributors.authenticate(distributors.current_request.headers.get("authorization"))


def _params() -> dict:
    return distributors.current_request.query_params or {}


def _places() -> int:
    return _container().settings.amount_suffix_decimals


@distributors.route("/distributors/me", methods=["GET"])
@guarded
def get_me():
    return json_response({"distributor": current_distributor().as_dict()})


@distributors.route("/distributors/me/plans", methods=["GET"])
@guarded
def list_plans():
    from chalicelib.api.views import plan_view

    current_distributor()
    return json_response({"plans": [plan_view(plan) for plan in _container().distributor_desk.plans()]})


@distributors.route("/distributors/me/orders", methods=["POST"])
@guarded
def create_code_order():
    from chalicelib.api.code_requests import CreateCodeOrderRequest
    from chalicelib.api.views import code_order_view

    distributor = current_distributor()
    body = parse_body(distributors.current_request.raw_body, CreateCodeOrderRequest)
    order = _container().distributor_desk.create_order(distributor, body.plan_id, body.quantity)
    return json_response(code_order_view(order, _places()), 201)


@distributors.route("/distributors/me/orders", methods=["GET"])
@guarded
def list_code_orders():
    from chalicelib.api.views import code_order_view

    distributor = current_distributor()
    params = _params()
    page = _container().distributor_desk.orders(distributor, query_int(params, "limit", 20, 1, 100),
                                                params.get("cursor"))
    return json_response({"orders": [code_order_view(order, _places()) for order in page.items],
                          "cursor": page.cursor})


@distributors.route("/distributors/me/orders/{order_id}", methods=["GET"])
@guarded
def get_code_order(order_id: str):
    from chalicelib.api.views import code_order_view

    distributor = current_distributor()
    return json_response(code_order_view(_container().distributor_desk.order(distributor, order_id), _places()))


@distributors.route("/distributors/me/orders/{order_id}/codes.csv", methods=["GET"])
@guarded
def export_codes(order_id: str):
    """The codes as CSV, in parts of `rows` (default 20,000): a next part is named by the `Link` header
    and `X-Next-Cursor` (pass it as `cursor`). The header row comes with the first part."""
    from chalicelib.domain.distributor_desk import CSV_ROWS_DEFAULT, CSV_ROWS_MAX

    distributor = current_distributor()
    params = _params()
    start = query_int(params, "cursor", 0, 0, 10_000_000)
    rows = query_int(params, "rows", CSV_ROWS_DEFAULT, 1, CSV_ROWS_MAX)
    text, next_start = _container().distributor_desk.export_csv(distributor, order_id, start, rows)
    headers = {"Content-Type": "text/csv; charset=utf-8",
               "Content-Disposition": f'attachment; filename="codes-{order_id}.csv"'}
    if next_start is not None:
        headers["X-Next-Cursor"] = str(next_start)
        headers["Link"] = f'</distributors/me/orders/{order_id}/codes.csv?cursor={next_start}&rows={rows}>; rel="next"'
    return Response(body=text, status_code=200, headers=headers)


@distributors.route("/distributors/me/codes", methods=["GET"])
@guarded
def list_codes():
    from chalicelib.domain.codes import CodeStatus
    from chalicelib.api.views import code_view

    distributor = current_distributor()
    params = _params()
    status = params.get("status")
    if status is not None and status not in {item.value for item in CodeStatus}:
        raise ValidationFailed("status must be one of active, depleted, inactive, expired", field="status")
    container = _container()
    page = container.distributor_desk.codes(distributor, CodeStatus(status) if status else None,
                                            query_int(params, "limit", 50, 1, 200), params.get("cursor"))
    now = container.clock.now()
    return json_response({"codes": [code_view(code, now) for code in page.items], "cursor": page.cursor})


@distributors.route("/distributors/me/codes/{code}/deactivate", methods=["POST"])
@guarded
def deactivate_code(code: str):
    from chalicelib.api.views import code_view

    distributor = current_distributor()
    container = _container()
    return json_response(code_view(container.distributor_desk.deactivate(distributor, code), container.clock.now()))


@distributors.route("/distributors/me/summary", methods=["GET"])
@guarded
def get_summary():
    distributor = current_distributor()
    return json_response(_container().distributor_desk.summary(distributor))


@distributors.route("/distributors/me/redemptions", methods=["GET"])
@guarded
def list_redemptions():
    from chalicelib.api.views import redemption_view

    distributor = current_distributor()
    params = _params()
    page = _container().distributor_desk.redemptions(distributor, query_int(params, "limit", 50, 1, 200),
                                                     params.get("cursor"))
    return json_response({"redemptions": [redemption_view(item) for item in page.items], "cursor": page.cursor})


@distributors.route("/distributors/me/sales-trend", methods=["GET"])
@guarded
def get_sales_trend():
    distributor = current_distributor()
    days = query_int(_params(), "days", 30, 1, 365)
    return json_response({"days": days, "points": _container().distributor_desk.sales_trend(distributor, days)})
