"""The operator panel's actions: form POSTs that each check the session's role and CSRF token, parse the form
into a model, call one desk and redirect back with a message. Every desk writes the audit entry (the operator's
name, the thing before and after); refusals render the error page with their 4xx."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import guarded
from chalicelib.api.openapi import web_page
from chalicelib.api.panel_session import PANEL_COOKIE, browser_route, parse_form, redirect, with_flash
from chalicelib.domain.errors import NotFound
from chalicelib.domain.operator_roles import OPERATOR_PREFIX, Role

panel_actions = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]


def _container():
    from chalicelib.container import get_container

    return get_container()


def action(role: Role = Role.OPERATOR):
    return browser_route(panel_actions, "panel", PANEL_COOKIE, OPERATOR_PREFIX, role, page=False)


def _actor(session):
    from chalicelib.api.http import request_id

    return session.actor(request_id())


def _done(request, location: str, message: str):
    return redirect(request, with_flash(location, message))


# ---------------------------------------------------------------------------------------------- orders
@panel_actions.route("/panel/orders/{order_id}/{verb}", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action()
def order_action(request, session, order_id: str, verb: str):
    from chalicelib.api import panel_forms as forms

    desk = _container().order_desk
    if verb == "delivered":
        form = parse_form(request, session, forms.DeliveredForm)
        desk.mark_delivered(_actor(session), order_id, form.reason, form.proof)
    elif verb in ("retry", "refund", "cancel"):
        form = parse_form(request, session, forms.ReasonForm)
        {"retry": desk.retry_delivery, "refund": desk.refund, "cancel": desk.cancel}[verb](
            _actor(session), order_id, form.reason)
    else:
        raise NotFound(f"no order action {verb!r}", code="ACTION_NOT_FOUND")
    return _done(request, f"/panel/orders/{order_id}", f"{verb}: done")


# ---------------------------------------------------------------------------------------------- payments
@panel_actions.route("/panel/payments/{transaction_id}/{verb}", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action()
def payment_action(request, session, transaction_id: str, verb: str):
    from chalicelib.api import panel_forms as forms

    desk = _container().payment_desk
    if verb == "credit":
        form = parse_form(request, session, forms.CreditForm)
        desk.credit_to_wallet(_actor(session), transaction_id, form.owner_id, form.reason)
    elif verb == "returned":
        form = parse_form(request, session, forms.ReturnedForm)
        desk.mark_returned(_actor(session), transaction_id, form.return_tx, form.reason)
    elif verb == "attach":
        form = parse_form(request, session, forms.AttachForm)
        desk.attach_to_order(_actor(session), transaction_id, form.order_id, form.reason)
    elif verb == "dismiss":
        form = parse_form(request, session, forms.ReasonForm)
        desk.dismiss(_actor(session), transaction_id, form.reason)
    else:
        raise NotFound(f"no payment action {verb!r}", code="ACTION_NOT_FOUND")
    return _done(request, "/panel/payments", f"payment {transaction_id[:12]}…: {verb} done")


# ---------------------------------------------------------------------------------------------- buyers
@panel_actions.route("/panel/buyers/{owner_id}/adjust", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action()
def adjust_wallet(request, session, owner_id: str):
    from urllib.parse import quote, unquote

    from chalicelib.api.panel_forms import AdjustForm, BuyerQuery
    from chalicelib.api.http import parse_query
    from chalicelib.domain.money import to_micros

    owner = parse_query({"owner_id": unquote(owner_id)}, BuyerQuery).owner_id or ""
    form = parse_form(request, session, AdjustForm)
    container = _container()
    before = container.wallets.balance(owner).balance_micros
    written = container.wallets.adjust(owner, to_micros(form.amount), form.reason, form.request_id)
    after = container.wallets.balance(owner).balance_micros
    container.distributors.record_action(_actor(session), "wallet.adjust", owner, amount=str(form.amount),
                                         reason=form.reason, request_id=form.request_id, result=written.value,
                                         before={"balance_micros": before}, after={"balance_micros": after})
    return _done(request, f"/panel/buyers?owner_id={quote(owner)}", f"wallet adjusted ({written.value.lower()})")


# ---------------------------------------------------------------------------------------------- settings
@panel_actions.route("/panel/settings/{what}", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action()
def change_setting(request, session, what: str):
    from chalicelib.api import panel_forms as forms

    desk = _container().catalog_desk
    if what == "prices":
        prices = parse_form(request, session, forms.PricesForm)
        desk.set_prices(_actor(session), prices.prices(), prices.version)
    elif what == "plans":
        plans = parse_form(request, session, forms.PlansForm)
        desk.set_plans(_actor(session), plans.plans, plans.version)
    elif what == "limits":
        limits = parse_form(request, session, forms.LimitsForm)
        desk.set_limits(_actor(session), limits.min, limits.max, limits.version)
    elif what == "texts":
        texts = parse_form(request, session, forms.TextsForm)
        _container().bot_texts.change(_actor(session), texts.language, texts.texts(), texts.version)
        return _done(request, f"/panel/settings?language={texts.language}#texts",
                     f"bot texts ({texts.language}) saved; live within a minute")
    else:
        raise NotFound(f"no setting {what!r}", code="SETTING_NOT_FOUND")
    return _done(request, "/panel/settings", f"{what} saved; live within a minute")


@panel_actions.route("/panel/settings/addresses/{verb}", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action(Role.OWNER)
def change_payment_address(request, session, verb: str):
    from chalicelib.api import panel_forms as forms

    desk = _container().address_desk
    if verb == "replace":
        replaced = parse_form(request, session, forms.ReplaceAddressForm)
        desk.replace(_actor(session), replaced.old, replaced.address, replaced.version)
    elif verb in ("add", "retire"):
        form = parse_form(request, session, forms.AddressForm)
        (desk.add if verb == "add" else desk.retire)(_actor(session), form.address, form.version)
    else:
        raise NotFound(f"no address action {verb!r}", code="ACTION_NOT_FOUND")
    return _done(request, "/panel/settings#addresses", f"address {verb}: done; live within a minute")


# ---------------------------------------------------------------------------------------------- distributors
@panel_actions.route("/panel/distributors", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action()
def create_distributor(request, session):
    from chalicelib.api.panel_forms import DistributorForm
    from chalicelib.api.views_panel import chrome
    from chalicelib.panel import render

    form = parse_form(request, session, DistributorForm)
    distributor, token = _container().distributors.create(_actor(session), form.name, form.telegram_user_id)
    return render("token.html", 201, **chrome(request, session, "panel", "distributors"), title="Distributor token",
                  distributor=distributor, token=token)


@panel_actions.route("/panel/distributors/{distributor_id}/{verb}", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action()
def distributor_action(request, session, distributor_id: str, verb: str):
    from chalicelib.api.panel_forms import Form
    from chalicelib.api.views_panel import chrome
    from chalicelib.panel import render

    parse_form(request, session, Form)
    service = _container().distributors
    if verb == "disable":
        service.disable(_actor(session), distributor_id)
        return _done(request, "/panel/distributors", "distributor disabled")
    if verb != "rotate":
        raise NotFound(f"no distributor action {verb!r}", code="ACTION_NOT_FOUND")
    distributor, token = service.rotate_token(_actor(session), distributor_id)
    return render("token.html", 200, **chrome(request, session, "panel", "distributors"), title="Distributor token",
                  distributor=distributor, token=token)


# ---------------------------------------------------------------------------------------------- operators
@panel_actions.route("/panel/operators", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action(Role.OWNER)
def create_operator(request, session):
    from chalicelib.api.panel_forms import OperatorForm

    form = parse_form(request, session, OperatorForm)
    _container().operators.create(_actor(session), form.name, Role.named(form.role), form.password)
    return _done(request, "/panel/operators", f"operator {form.name} created")


@panel_actions.route("/panel/operators/{name}/{verb}", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action(Role.OWNER)
def operator_action(request, session, name: str, verb: str):
    from chalicelib.api.panel_forms import Form

    parse_form(request, session, Form)
    operators = _container().operators
    if verb in ("disable", "enable"):
        operators.set_active(_actor(session), name, verb == "enable")
    elif verb == "revoke":
        operators.revoke_all(_actor(session), name)
    else:
        raise NotFound(f"no operator action {verb!r}", code="ACTION_NOT_FOUND")
    return _done(request, "/panel/operators", f"{name}: {verb} done")


# ---------------------------------------------------------------------------------------------- reports
@panel_actions.route("/panel/reports/reconcile", methods=["POST"], content_types=FORM)
@web_page
@guarded
@action()
def reconcile(request, session):
    from datetime import date

    from chalicelib.api.panel_forms import ReconcileForm

    form = parse_form(request, session, ReconcileForm)
    container = _container()
    report = container.reconciliation.reconcile(date.fromisoformat(form.day))
    container.distributors.record_action(_actor(session), "reconciliation.run", form.day,
                                         differences=len(report.differences))
    return _done(request, f"/panel/reports?day={form.day}", f"reconciled: {len(report.differences)} difference(s)")
