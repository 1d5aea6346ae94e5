"""The distributor portal under /portal: sign-in with the distributor's token (then a session cookie, like the
panel's), a dashboard with the sales trend chart and summary, code packs with fulfilment progress and CSV
download, codes with their invite deep links and deactivation, and buying a pack from the balance or by
transfer. Every action goes through the same DistributorDesk the distributor API uses."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import guarded
from chalicelib.api.openapi import web_page
from chalicelib.api.panel_session import (PORTAL_COOKIE, browser_route, cookie_header, parse_form, redirect,
                                          with_flash)
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.operator_roles import DISTRIBUTOR_PREFIX

portal = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]
TREND_DAYS = 30
CODES_SHOWN = 20


def _container():
    from chalicelib.container import get_container

    return get_container()


def portal_route(page: bool = True):
    return browser_route(portal, "portal", PORTAL_COOKIE, DISTRIBUTOR_PREFIX, page=page)


def _distributor(session):
    """The distributor is read again on every request: a disabled one (or a rotated token's) is out at once."""
    from chalicelib.domain.distributors import DistributorStatus

    distributor = _container().distributors.get_by_id(session.principal.removeprefix(DISTRIBUTOR_PREFIX))
    if distributor is None or distributor.status != DistributorStatus.ACTIVE:
        raise Unauthenticated("this distributor is disabled", code="SESSION_INVALID")
    return distributor


def _render(request, session, template: str, status: int = 200, **context):
    from chalicelib.api.views_panel import chrome
    from chalicelib.panel import render

    return render(template, status, **chrome(request, session, "portal"), **context)


@portal.route("/portal", methods=["GET"])
@web_page
@guarded
def portal_home():
    return redirect(portal.current_request, "/portal/dashboard")


@portal.route("/portal/sign-in", methods=["GET"])
@web_page
@guarded
def portal_sign_in_page():
    return _render(portal.current_request, None, "sign_in.html", title="Distributor sign-in", token_sign_in=True)


@portal.route("/portal/sign-in", methods=["POST"], content_types=FORM)
@web_page
@guarded
def portal_sign_in():
    from urllib.parse import parse_qsl

    from chalicelib.api.auth import source_ip
    from chalicelib.domain.errors import DomainError

    request = portal.current_request
    fields = dict(parse_qsl((request.raw_body or b"").decode("utf-8", "replace"), max_num_fields=10))
    container = _container()
    ip = source_ip(request)
    permit = container.operators_limiter.take([f"ip:{ip or 'unknown'}"], container.clock.now())
    if not permit.granted:
        refused = _render(request, None, "sign_in.html", 429, title="Distributor sign-in", token_sign_in=True,
                          problem="Too many failed sign-ins; wait before trying again.")
        refused.headers["Retry-After"] = str(permit.wait_seconds)
        return refused
    try:
        distributor = container.distributors.authenticate(f"Bearer {fields.get('token', '').strip()}")
    except DomainError as error:
        return _render(request, None, "sign_in.html", 403 if error.code == "DISTRIBUTOR_DISABLED" else 401,
                       title="Distributor sign-in", token_sign_in=True, problem=error.message)
    container.operators_limiter.give_back(permit)
    signed = container.operators.open_for_distributor(distributor.distributor_id, ip)
    max_age = container.settings.panel_session_minutes * 60
    return redirect(request, "/portal/dashboard",
                    {"Set-Cookie": cookie_header(request, PORTAL_COOKIE, "portal", signed.token, max_age)})


@portal.route("/portal/sign-out", methods=["POST"], content_types=FORM)
@web_page
@guarded
@portal_route()
def portal_sign_out(request, session):
    from chalicelib.api.panel_forms import Form

    parse_form(request, session, Form)
    _container().operators.sign_out(session)
    return redirect(request, "/portal/sign-in", {"Set-Cookie": cookie_header(request, PORTAL_COOKIE, "portal", "", 0)})


@portal.route("/portal/dashboard", methods=["GET"])
@web_page
@guarded
@portal_route()
def portal_dashboard(request, session):
    from chalicelib.domain.codes import CodeStatus, format_code
    from chalicelib.domain.distributor_desk import CSV_ROWS_DEFAULT
    from chalicelib.domain.users import owner_for_distributor

    distributor = _distributor(session)
    container = _container()
    desk = container.distributor_desk
    trend = desk.sales_trend(distributor, TREND_DAYS)
    chart = {"days": [point["date"] for point in trend], "series": [
        {"label": "redemptions", "values": [point["redemptions"] for point in trend]},
        {"label": "codes issued", "values": [point["codes_issued"] for point in trend]}]}
    now = container.clock.now()
    codes = desk.codes(distributor, CodeStatus.ACTIVE, CODES_SHOWN, None).items
    links = [(format_code(code.code), f"https://t.me/{container.settings.bot_username}?start=redeem-{code.code}",
              code) for code in codes]
    return _render(request, session, "portal.html", title=distributor.name, distributor=distributor,
                   summary=desk.summary(distributor), chart=chart, packs=desk.orders(distributor, 20, None).items,
                   plans=desk.plans(), links=links, now=now, csv_rows=CSV_ROWS_DEFAULT,
                   balance=container.wallets.balance(owner_for_distributor(distributor.distributor_id)))


@portal.route("/portal/orders/{order_id}/codes.csv", methods=["GET"])
@web_page
@guarded
@portal_route(page=False)
def portal_codes_csv(request, session, order_id: str):
    """One part of the pack's codes (`?cursor=` the row it starts at; the dashboard links every part)."""
    from chalicelib.api.http import parse_query
    from chalicelib.api.requests import CsvQuery

    query = parse_query(request.query_params, CsvQuery)
    text, _ = _container().distributor_desk.export_csv(_distributor(session), order_id, query.cursor, query.rows)
    return Response(body=text, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="codes-{order_id}-{query.cursor}.csv"'})


@portal.route("/portal/orders", methods=["POST"], content_types=FORM)
@web_page
@guarded
@portal_route(page=False)
def portal_buy_pack(request, session):
    from chalicelib.api.panel_forms import BuyPackForm

    form = parse_form(request, session, BuyPackForm)
    container = _container()
    order = container.distributor_desk.create_order(_distributor(session), form.plan_id, form.quantity,
                                                    form.payment_method)
    if form.payment_method == "balance":
        return redirect(request, with_flash("/portal/dashboard", f"pack {order.order_id} paid from your balance"))
    return _render(request, session, "portal_pay.html", 201, title="Pay by transfer", order=order,
                   payment=container.payment_methods.instructions(order))


@portal.route("/portal/top-up", methods=["POST"], content_types=FORM)
@web_page
@guarded
@portal_route(page=False)
def portal_top_up(request, session):
    from chalicelib.api.panel_forms import TopUpForm

    form = parse_form(request, session, TopUpForm)
    container = _container()
    order = container.distributor_desk.top_up(_distributor(session), form.amount)
    return _render(request, session, "portal_pay.html", 201, title="Top up by transfer", order=order,
                   payment=container.payment_methods.instructions(order))


@portal.route("/portal/codes/{code}/deactivate", methods=["POST"], content_types=FORM)
@web_page
@guarded
@portal_route(page=False)
def portal_deactivate(request, session, code: str):
    from chalicelib.api.panel_forms import Form

    parse_form(request, session, Form)
    _container().distributor_desk.deactivate(_distributor(session), code)
    return redirect(request, with_flash("/portal/dashboard", "code deactivated"))
