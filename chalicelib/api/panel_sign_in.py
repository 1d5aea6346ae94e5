"""Operators sign in to the panel with their name and password (limited per name and per address) and get the
session cookie; signing out ends the session and clears the cookie."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import guarded
from chalicelib.api.openapi import web_page
from chalicelib.api.panel import FORM, page, present
from chalicelib.api.panel_session import PANEL_COOKIE, cookie_header, redirect

panel_sign_in = Blueprint(__name__)


def _container():
    from chalicelib.container import get_container

    return get_container()


@panel_sign_in.route("/panel/sign-in", methods=["GET"])
@web_page
@guarded
def sign_in_page():
    return present(panel_sign_in.current_request, None, "sign_in.html", "", title="Operator sign-in",
                   token_sign_in=False)


@panel_sign_in.route("/panel/sign-in", methods=["POST"], content_types=FORM)
@web_page
@guarded
def sign_in():
    from urllib.parse import parse_qsl

    from pydantic import ValidationError

    from chalicelib.api.auth import source_ip
    from chalicelib.api.panel_forms import SignInForm
    from chalicelib.domain.errors import DomainError

    request = panel_sign_in.current_request
    fields = dict(parse_qsl((request.raw_body or b"").decode("utf-8", "replace"), max_num_fields=10))
    fields.pop("csrf", None)
    container = _container()
    try:
        form = SignInForm.model_validate(fields)
        signed = container.operators.sign_in(form.name, form.password, source_ip(request))
    except ValidationError:
        return present(request, None, "sign_in.html", "", 400, title="Operator sign-in", token_sign_in=False,
                       problem="Enter your name and your password.")
    except DomainError as error:
        status = 429 if error.code == "SIGN_IN_LIMITED" else 401
        headers_extra = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
        response = present(request, None, "sign_in.html", "", status, title="Operator sign-in", token_sign_in=False,
                           problem=error.message)
        response.headers.update(headers_extra)
        return response
    max_age = container.settings.panel_session_minutes * 60
    return redirect(request, "/panel/dashboard",
                    {"Set-Cookie": cookie_header(request, PANEL_COOKIE, "panel", signed.token, max_age)})


@panel_sign_in.route("/panel/sign-out", methods=["POST"], content_types=FORM)
@web_page
@guarded
@page()
def sign_out(request, session):
    from chalicelib.api.panel_forms import Form
    from chalicelib.api.panel_session import parse_form

    parse_form(request, session, Form)
    _container().operators.sign_out(session)
    return redirect(request, "/panel/sign-in", {"Set-Cookie": cookie_header(request, PANEL_COOKIE, "panel", "", 0)})
