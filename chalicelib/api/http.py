"""HTTP plumbing shared by every route: the one error mapping, body and query parsing, request ids."""
from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice import Response

from chalicelib.domain.errors import (Conflict, DomainError, Forbidden, Gone, NotFound, PayloadTooLarge,
                                      RateLimited, Unauthenticated, Unavailable, Unprocessable, UnsupportedMediaType,
                                      ValidationFailed)
from chalicelib.observability import logger

MAX_BODY_BYTES = 64 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    ValidationFailed: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    Unprocessable: 422,
    RateLimited: 429,
    Unavailable: 503,
}

Model = TypeVar("Model")


def request_id() -> str:
    return logger.get_correlation_id() or "unknown"


def choose_request_id(headers: Any, context: dict | None) -> str:
    supplied = headers.get("x-request-id") if headers else None
    if supplied and _REQUEST_ID.match(supplied):
        return supplied
    return (context or {}).get("requestId") or str(uuid.uuid4())


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                    status_code=status, headers={"Content-Type": "application/json", **(headers or {})})


def error_response(error: DomainError) -> Response:
    status = next((code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind)), 400)
    body: dict[str, Any] = {"code": error.code, "message": error.message, "request_id": request_id()}
    if error.field:
        body["field"] = error.field
    if error.details:
        body["details"] = error.details
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
        body["retry_after"] = error.retry_after
    if status >= 500:
        logger.warning("request refused", extra={"code": error.code})
    return json_response({"error": body}, status, headers)


def unexpected_error_response() -> Response:
    logger.exception("unhandled error")
    return json_response({"error": {"code": "INTERNAL_ERROR", "message": "an unexpected error occurred",
                                    "request_id": request_id()}}, 500)


def guarded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Every route goes through here: domain errors become their HTTP answer, anything else a 500."""

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except DomainError as error:
            return error_response(error)
        except Exception:  # noqa: BLE001 - the one place unexpected errors become a 500
            return unexpected_error_response()

    return run


def check_content_type(content_type: str | None, accepted: list[str]) -> None:
    """Chalice's own rule for a route's `content_types` (no header counts as application/json; a match is any
    accepted type among the header's `,`/`;` parts, or `*/*` on either side), checked before Chalice checks
    it, so a refusal is our 415 naming the header instead of Chalice's body."""
    if not accepted:
        return
    header = (content_type if content_type is not None else "application/json").lower()
    wanted = {kind.lower() for kind in accepted}
    parts = {part.strip() for part in re.split("[,;]", header)}
    if "*/*" in header or "*/*" in wanted or wanted & parts:
        return
    raise UnsupportedMediaType(f"Content-Type must be {' or '.join(sorted(wanted))}", field="Content-Type")


def parse_body(raw_body: bytes | None, model: type[Model]) -> Model:
    """Decode a JSON object body and validate it; a bad field is named in the error."""
    from pydantic import ValidationError

    document = parse_json(raw_body)
    if not isinstance(document, dict):
        raise ValidationFailed("the body must be a JSON object", code="INVALID_BODY", field="body")
    try:
        return model.model_validate(document)  # type: ignore[attr-defined]
    except ValidationError as error:
        raise validation_failed(error) from None


def parse_json(raw_body: bytes | None) -> Any:
    if not raw_body:
        raise ValidationFailed("a JSON body is required", code="BODY_REQUIRED", field="body")
    if len(raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body exceeds {MAX_BODY_BYTES} bytes", code="PAYLOAD_TOO_LARGE")
    try:
        return json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("the body is not valid JSON", code="MALFORMED_JSON", field="body") from None


def parse_query(params: Mapping[str, str] | None, model: type[Model]) -> Model:
    """Validate the query string into a model (`chalicelib.api.requests`); a bad parameter is named in the
    error. A repeated parameter counts once, with the value Chalice gives for it."""
    from pydantic import ValidationError

    document = {name: params.get(name) for name in params} if params else {}
    try:
        return model.model_validate(document)  # type: ignore[attr-defined]
    except ValidationError as error:
        raise validation_failed(error) from None


def validation_failed(error: Any) -> ValidationFailed:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "is not a known field"
    elif first["type"] == "value_error" and first.get("ctx", {}).get("error"):
        message = str(first["ctx"]["error"])  # our validators' own words, without pydantic's prefix
    return ValidationFailed(f"{field}: {message}", code="VALIDATION_FAILED", field=field)
