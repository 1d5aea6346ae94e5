"""CORS for the storefront's calls: only the configured origins (MINIAPP_ALLOWED_ORIGINS) are answered with
Access-Control-Allow-Origin; any other origin gets no CORS headers, so the browser refuses to share the answer.
A storefront served by the app itself is same-origin and needs none of this."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Response

ALLOWED_HEADERS = "Content-Type, X-Telegram-Init-Data, Idempotency-Key, X-Request-Id"
ALLOWED_METHODS = "GET, POST, OPTIONS"
MAX_AGE_SECONDS = "600"


def _allowed(request: Any) -> str | None:
    from chalicelib.container import get_container

    origin = (request.headers or {}).get("origin")
    if origin and origin.rstrip("/") in get_container().settings.miniapp_allowed_origins:
        return origin
    return None


def preflight(request: Any) -> Response:
    """204 with the CORS headers for an allowed origin; our 403 envelope, without them, for any other."""
    from chalicelib.api.http import error_response
    from chalicelib.domain.errors import Forbidden

    origin = _allowed(request)
    if origin is None:
        response = error_response(Forbidden("this origin may not call the API from a browser",
                                            code="ORIGIN_NOT_ALLOWED", field="Origin"))
        response.headers["Vary"] = "Origin"
        return response
    return Response(body="", status_code=204, headers={
        "Vary": "Origin", "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS, "Access-Control-Max-Age": MAX_AGE_SECONDS})


def cors_middleware(request: Any, get_response: Callable[[Any], Any]) -> Any:
    response = get_response(request)
    if request.method != "OPTIONS":
        origin = _allowed(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
    return response
