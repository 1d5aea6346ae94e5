"""Sessions and forms of the browser pages (the operator panel, the distributor portal).

A session lives in an HttpOnly, SameSite=Strict cookie scoped to its area's path (Secure when the request came
over HTTPS, which API Gateway says in X-Forwarded-Proto). Every change is a form POST that must carry the
session's CSRF token in the `csrf` field: a missing or wrong token is a 403 and nothing is read or written.
A page asked for without a live session redirects to the sign-in page; an action refused by the domain is
answered with the error page and its 4xx, the message naming the field."""
from __future__ import annotations

import functools
from http.cookies import CookieError, SimpleCookie
from typing import Any, Callable, TypeVar
from urllib.parse import parse_qsl, quote

from chalice import Response

from chalicelib.domain.errors import DomainError, Forbidden, Unauthenticated, ValidationFailed

Model = TypeVar("Model")
PANEL_COOKIE = "tgshop_panel"
PORTAL_COOKIE = "tgshop_portal"


def _container():
    from chalicelib.container import get_container

    return get_container()


def base_path(request: Any) -> str:
    """The stage prefix a browser sees ("/api" behind API Gateway, "" locally), for links and cookie paths."""
    context = request.context or {}
    stage = context.get("stage")
    path = context.get("path") or ""
    return f"/{stage}" if stage and path.startswith(f"/{stage}/") else ""


def is_https(request: Any) -> bool:
    return (request.headers.get("x-forwarded-proto") or "").lower() == "https"


def cookie_header(request: Any, name: str, area: str, token: str, max_age: int) -> str:
    secure = "; Secure" if is_https(request) else ""
    return (f"{name}={token}; Path={base_path(request)}/{area}; Max-Age={max_age}; HttpOnly; SameSite=Strict"
            f"{secure}")


def read_cookie(request: Any, name: str) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(request.headers.get("cookie") or "")
    except CookieError:
        return None
    morsel = cookie.get(name)
    return morsel.value if morsel else None


def redirect(request: Any, location: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body="", status_code=303, headers={"Location": base_path(request) + location, **(headers or {})})


def with_flash(location: str, message: str) -> str:
    """The location with the message in its query, before any fragment (a fragment's query is never sent)."""
    path, hash_mark, fragment = location.partition("#")
    joiner = "&" if "?" in path else "?"
    return f"{path}{joiner}ok={quote(message[:200])}{hash_mark}{fragment}"


def parse_form(request: Any, session: Any, model: type[Model]) -> Model:
    """The form body as a model, after its CSRF token is checked against the session (403 before anything)."""
    from pydantic import ValidationError

    from chalicelib.api.http import validation_failed

    raw = request.raw_body or b""
    try:
        fields = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=200))
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed("the form could not be read", code="FORM_INVALID", field="body") from None
    if not session.csrf_matches(fields.pop("csrf", None)):
        raise Forbidden("the form's CSRF token is missing or stale; reload the page", code="CSRF_INVALID",
                        field="csrf")
    try:
        return model.model_validate(fields)  # type: ignore[attr-defined]
    except ValidationError as error:
        raise validation_failed(error) from None


def _session(request: Any, cookie: str, principal_prefix: str) -> Any:
    session = _container().operators.session(read_cookie(request, cookie))
    if not session.principal.startswith(principal_prefix):
        raise Unauthenticated("sign in first", code="SESSION_INVALID")
    return session


def browser_route(blueprint: Any, area: str, cookie: str, principal_prefix: str, role: Any = None, *,
                  page: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Resolve the area's session (then check the role) and hand it to the view; a page without a session
    redirects to sign-in, anything refused renders the error page with its status."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def run(*args: Any, **kwargs: Any) -> Any:
            from chalicelib.api.http import STATUS_BY_ERROR
            from chalicelib.api.views_panel import chrome
            from chalicelib.panel import render

            request = blueprint.current_request
            session = None
            try:
                session = _session(request, cookie, principal_prefix)
                if role is not None:
                    session.require(role)
                return view(request, session, *args, **kwargs)
            except Unauthenticated as error:
                if page:
                    return redirect(request, f"/{area}/sign-in")
                return render("error.html", 401, **chrome(request, None, area), error=error)
            except DomainError as error:
                if session is not None and not page:   # a refused change is audited, like the admin API's
                    _container().distributors.record_refusal(session.actor(), f"{area}.{view.__name__}",
                                                             (request.context or {}).get("path"), error)
                status = next((code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind)), 400)
                headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
                return render("error.html", status, headers, **chrome(request, session, area), error=error)

        return run

    return decorate

