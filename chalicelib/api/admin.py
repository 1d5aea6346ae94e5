"""Admin routes (X-Api-Key): distributors, the audit log and the ledger's reconciliation. Every admin action,
refused or not, is written to the audit log."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chalice import Blueprint

from chalicelib.api.auth import admin_actor
from chalicelib.api.http import guarded, json_response, parse_body, parse_query
from chalicelib.api.openapi import operation
from chalicelib.domain.errors import DomainError

admin = Blueprint(__name__)


def _container():
    from chalicelib.container import get_container

    return get_container()


@contextmanager
def _audited(actor, action: str, target: str | None) -> Iterator[None]:
    """A refusal inside the block (bad input, unknown distributor) is audited, then answered as usual. The
    service audits what succeeds."""
    try:
        yield
    except DomainError as error:
        _container().distributors.record_refusal(actor, action, target, error)
        raise


@admin.route("/admin/distributors", methods=["POST"])
@operation(summary="Create a distributor and issue its token", tag="admin", auth="admin",
           body="CreateDistributorRequest", response="IssuedToken", status=201, errors=(409,))
@guarded
def create_distributor():
    from chalicelib.api.requests import CreateDistributorRequest
    from chalicelib.api.views import issued_token_view

    request = admin.current_request
    actor = admin_actor(request)
    with _audited(actor, "distributor.create", None):
        body = parse_body(request.raw_body, CreateDistributorRequest)
        distributor, token = _container().distributors.create(actor, body.name, body.telegram_user_id)
    return json_response(issued_token_view(distributor, token, "shown once; only its SHA-256 is stored"), 201)


@admin.route("/admin/distributors/{distributor_id}", methods=["GET"])
@operation(summary="One distributor", tag="admin", auth="admin", response="DistributorAnswer")
@guarded
def get_distributor(distributor_id: str):
    from chalicelib.api.views import distributor_view

    actor = admin_actor(admin.current_request)
    with _audited(actor, "distributor.get", distributor_id):
        distributor = _container().distributors.get(actor, distributor_id)
    return json_response({"distributor": distributor_view(distributor)})


@admin.route("/admin/distributors/{distributor_id}/rotate-token", methods=["POST"])
@operation(summary="Issue a new token; the old one stops working", tag="admin", auth="admin",
           response="IssuedToken", errors=(409,))
@guarded
def rotate_distributor_token(distributor_id: str):
    from chalicelib.api.views import issued_token_view

    actor = admin_actor(admin.current_request)
    with _audited(actor, "distributor.rotate_token", distributor_id):
        distributor, token = _container().distributors.rotate_token(actor, distributor_id)
    return json_response(issued_token_view(distributor, token, "shown once; the previous token no longer works"))


@admin.route("/admin/distributors/{distributor_id}/disable", methods=["POST"])
@operation(summary="Disable a distributor", tag="admin", auth="admin", response="DistributorAnswer",
           errors=(409,))
@guarded
def disable_distributor(distributor_id: str):
    from chalicelib.api.views import distributor_view

    actor = admin_actor(admin.current_request)
    with _audited(actor, "distributor.disable", distributor_id):
        distributor = _container().distributors.disable(actor, distributor_id)
    return json_response({"distributor": distributor_view(distributor)})


@admin.route("/admin/audit", methods=["GET"])
@operation(summary="One UTC day of the audit log", tag="admin", auth="admin", query="AuditQuery",
           response="AuditPage")
@guarded
def list_audit():
    """One UTC day of the audit log (`day`, default today), in pages."""
    from chalicelib.api.requests import AuditQuery
    from chalicelib.api.views import audit_entry_view, page_view

    request = admin.current_request
    actor = admin_actor(request)
    with _audited(actor, "audit.list", None):
        query = parse_query(request.query_params, AuditQuery)
        container = _container()
        day = query.day or container.clock.now().date().isoformat()
        page = container.distributors.audit_day(actor, day, query.limit, query.cursor)
    return json_response({"day": day, **page_view("entries", page, audit_entry_view)})


@admin.route("/admin/wallet-adjustments", methods=["POST"])
@operation(summary="Correct a wallet with a journal entry", tag="admin", auth="admin",
           body="WalletAdjustmentRequest", response="WalletAdjustmentAnswer", errors=(409, 422))
@guarded
def adjust_wallet():
    """A correction of a buyer's or a distributor's wallet, as a journal entry with a reason. A retry with the
    same `request_id` writes nothing new."""
    from chalicelib.api.requests import WalletAdjustmentRequest
    from chalicelib.api.views import balance_view
    from chalicelib.domain.money import to_micros

    request = admin.current_request
    actor = admin_actor(request)
    container = _container()
    with _audited(actor, "wallet.adjust", None):
        body = parse_body(request.raw_body, WalletAdjustmentRequest)
        written = container.wallets.adjust(body.owner_id, to_micros(body.amount), body.reason, body.request_id)
        container.distributors.record_action(actor, "wallet.adjust", body.owner_id, amount=str(body.amount),
                                             reason=body.reason, request_id=body.request_id, result=written.value)
    return json_response({"result": written.value, "wallet": balance_view(container.wallets.balance(body.owner_id))})


@admin.route("/admin/reconciliation", methods=["POST"])
@operation(summary="Reconcile one UTC day now", tag="admin", auth="admin", body="ReconciliationRequest",
           body_required=False, response="ReconciliationReport", errors=(422,))
@guarded
def run_reconciliation():
    """Reconcile one UTC day now (body `{"day": "YYYY-MM-DD"}`, or none: today so far) and answer its report."""
    from chalicelib.api.requests import ReconciliationRequest

    request = admin.current_request
    actor = admin_actor(request)
    container = _container()
    with _audited(actor, "reconciliation.run", None):
        body = parse_body(request.raw_body, ReconciliationRequest) if request.raw_body else ReconciliationRequest()
        report = container.reconciliation.reconcile(body.day_date)
    container.distributors.record_action(actor, "reconciliation.run", report.day.isoformat(),
                                         differences=len(report.differences))
    return json_response(report.as_dict())


@admin.route("/admin/reconciliation/{day}", methods=["GET"])
@operation(summary="The stored reconciliation report of a day", tag="admin", auth="admin", path="DayPath",
           response="ReconciliationReport")
@guarded
def get_reconciliation(day: str):
    """The stored report of a day: 404 when that day was never reconciled."""
    from chalicelib.api.requests import DayPath

    actor = admin_actor(admin.current_request)
    container = _container()
    with _audited(actor, "reconciliation.get", day):
        report = container.reconciliation.stored(parse_query({"day": day}, DayPath).day_date)
    container.distributors.record_action(actor, "reconciliation.get", day)
    return json_response(report)
