"""Admin routes (X-Api-Key): distributors and the audit log. Every admin action, refused or not, is
written to the audit log."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint

from chalicelib.api.http import guarded, json_response, parse_body, query_int, request_id
from chalicelib.domain.errors import DomainError, ValidationFailed

admin = Blueprint(__name__)


def _container():
    from chalicelib.container import get_container

    return get_container()


def source_ip(request: Any) -> str | None:
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


def _actor():
    """401 before anything is read or written when the key is missing or wrong."""
    from chalicelib.domain.distributors import authenticate_admin
    from chalicelib.observability import count

    request = admin.current_request
    try:
        return authenticate_admin(request.headers.get("x-api-key"),
                                  _container().settings.admin_api_key.get_secret_value(), request_id(),
                                  source_ip(request))
    except DomainError:
        count("AdminAuthFailed")
        raise


def _audited(actor, action: str, target: str | None, work: Callable[[], Any]) -> Any:
    try:
        return work()
    except DomainError as error:
        _container().distributors.record_refusal(actor, action, target, error)
        raise


@admin.route("/admin/distributors", methods=["POST"])
@guarded
def create_distributor():
    from chalicelib.api.code_requests import CreateDistributorRequest

    actor = _actor()

    def work():
        body = parse_body(admin.current_request.raw_body, CreateDistributorRequest)
        distributor, token = _container().distributors.create(actor, body.name, body.telegram_user_id)
        return json_response({"distributor": distributor.as_dict(), "token": token,
                              "token_note": "shown once; only its SHA-256 is stored"}, 201)

    return _audited(actor, "distributor.create", None, work)


@admin.route("/admin/distributors/{distributor_id}", methods=["GET"])
@guarded
def get_distributor(distributor_id: str):
    actor = _actor()
    return _audited(actor, "distributor.get", distributor_id, lambda: json_response(
        {"distributor": _container().distributors.get(actor, distributor_id).as_dict()}))


@admin.route("/admin/distributors/{distributor_id}/rotate-token", methods=["POST"])
@guarded
def rotate_distributor_token(distributor_id: str):
    actor = _actor()

    def work():
        distributor, token = _container().distributors.rotate_token(actor, distributor_id)
        return json_response({"distributor": distributor.as_dict(), "token": token,
                              "token_note": "shown once; the previous token no longer works"})

    return _audited(actor, "distributor.rotate_token", distributor_id, work)


@admin.route("/admin/distributors/{distributor_id}/disable", methods=["POST"])
@guarded
def disable_distributor(distributor_id: str):
    actor = _actor()
    return _audited(actor, "distributor.disable", distributor_id, lambda: json_response(
        {"distributor": _container().distributors.disable(actor, distributor_id).as_dict()}))


@admin.route("/admin/audit", methods=["GET"])
@guarded
def list_audit():
    import re

    actor = _actor()

    def work():
        container = _container()
        params = admin.current_request.query_params or {}
        day = params.get("day") or container.clock.now().date().isoformat()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise ValidationFailed("day must be a date like 2026-11-25", field="day")
        page = container.distributors.audit_day(actor, day, query_int(params, "limit", 50, 1, 200),
                                                params.get("cursor"))
        return json_response({"day": day, "entries": [entry.as_dict() for entry in page.items],
                              "cursor": page.cursor})

    return _audited(actor, "audit.list", None, work)
