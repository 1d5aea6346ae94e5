"""The operator panel's TRON page (the hot wallet, the day's ceilings, payouts, energy lent out, the TRON
settings) and its actions: cancel a payout whose transaction provably died, book stock, change a setting. Each
action checks the role and the CSRF token, parses the form into a model and calls one desk, which audits it."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import guarded, parse_query
from chalicelib.api.openapi import web_page
from chalicelib.api.panel_session import PANEL_COOKIE, browser_route, parse_form, redirect, with_flash
from chalicelib.domain.errors import NotFound
from chalicelib.domain.operator_roles import OPERATOR_PREFIX, Role

panel_tron = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]
FLAT_SETTINGS = {"exchange": "trx_exchange", "withdrawals": "withdrawals", "limits": "payout_limits"}


def _container():
    from chalicelib.container import get_container

    return get_container()


def _actor(session):
    from chalicelib.api.http import request_id

    return session.actor(request_id())


def _done(request, location: str, message: str):
    return redirect(request, with_flash(location, message))


@panel_tron.route("/panel/tron", methods=["GET"])
@web_page
@guarded
@browser_route(panel_tron, "panel", PANEL_COOKIE, OPERATOR_PREFIX, Role.VIEWER)
def tron_page(request, session):
    from chalicelib.api.panel_forms import PayoutsQuery
    from chalicelib.api.views_panel import chrome
    from chalicelib.domain.ports.payouts import PayoutState
    from chalicelib.panel import render

    query = parse_query(request.query_params, PayoutsQuery)
    container = _container()
    desk = container.tron_desk
    return render("tron.html", 200, **chrome(request, session, "panel", "tron"), title="TRON",
                  wallet=desk.wallet(), state=query.state, states=[state.value for state in PayoutState],
                  payouts=desk.payouts(PayoutState(query.state)), review=desk.for_review(),
                  delegations=desk.delegations(), settings=container.tron_settings_desk.current(),
                  now=container.clock.now(), request_id=container.ids.new_id(),
                  can_act=session.role >= Role.OPERATOR)


@panel_tron.route("/panel/tron/payouts/{payout_id}/cancel", methods=["POST"], content_types=FORM)
@web_page
@guarded
@browser_route(panel_tron, "panel", PANEL_COOKIE, OPERATOR_PREFIX, Role.OPERATOR, page=False)
def cancel_payout(request, session, payout_id: str):
    from urllib.parse import unquote

    from chalicelib.api.panel_forms import ReasonForm

    form = parse_form(request, session, ReasonForm)
    payout = _container().tron_desk.cancel(_actor(session), unquote(payout_id), form.reason)
    return _done(request, "/panel/tron#review", f"payout {payout.payout_id}: cancelled")


@panel_tron.route("/panel/tron/stock", methods=["POST"], content_types=FORM)
@web_page
@guarded
@browser_route(panel_tron, "panel", PANEL_COOKIE, OPERATOR_PREFIX, Role.OPERATOR, page=False)
def book_stock(request, session):
    from chalicelib.api.panel_forms import StockForm

    form = parse_form(request, session, StockForm)
    written = _container().tron_desk.book_stock(_actor(session), form.asset, form.amount, form.reason,
                                                form.request_id)
    return _done(request, "/panel/tron", f"stock {form.asset} {form.amount}: {written.value.lower()}")


@panel_tron.route("/panel/tron/settings/{what}", methods=["POST"], content_types=FORM)
@web_page
@guarded
@browser_route(panel_tron, "panel", PANEL_COOKIE, OPERATOR_PREFIX, Role.OPERATOR, page=False)
def change_tron_setting(request, session, what: str):
    from chalicelib.api import panel_forms as forms

    desk = _container().tron_settings_desk
    if what == "packages":
        packages = parse_form(request, session, forms.PackagesForm)
        desk.set_packages(_actor(session), packages.packages, packages.version)
    elif what in FLAT_SETTINGS:
        form = parse_form(request, session, forms.TronSettingForm)
        desk.change(_actor(session), FLAT_SETTINGS[what], form.values(), form.version)
    else:
        raise NotFound(f"no TRON setting {what!r}", code="SETTING_NOT_FOUND")
    return _done(request, f"/panel/tron#settings-{what}", f"{what} saved; live within a minute")
