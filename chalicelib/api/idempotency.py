"""Powertools idempotency around one service call, keyed on the request model: a retried POST with the same
Idempotency-Key returns the answer the first one got (24 h), and a key reused for a different request is
refused."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.domain.errors import Conflict, Unprocessable, ValidationFailed

if TYPE_CHECKING:
    from pydantic import BaseModel

IDEMPOTENCY_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255

Request = TypeVar("Request", bound="BaseModel")


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
                               field="Idempotency-Key")
    return key


def run_once(request: Request, scope: str, key: str | None, work: Callable[[Request], dict],
             lambda_context: Any = None) -> dict:
    """`work(request)`, at most once per (request model, scope, key) when a key is given; a retry gets the
    stored answer. Every field of the request (`model_dump`) must match the first request's, or the retry
    is refused (422); while the first one still runs, 409. `work` returns a JSON-ready dict."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (IdempotencyAlreadyInProgressError,
                                                                        IdempotencyValidationError)

    if check_key(key) is None:
        return work(request)
    kind = type(request)
    record = {"model": f"{kind.__module__}.{kind.__qualname__}", "scope": scope, "idempotency_key": key,
              "request": request.model_dump(mode="json")}
    config = IdempotencyConfig(event_key_jmespath="[model, scope, idempotency_key]",
                               payload_validation_jmespath="request",
                               expires_after_seconds=IDEMPOTENCY_SECONDS)
    if lambda_context is not None:
        # Lets an in-progress record expire with the invocation if the function dies mid-request.
        config.register_lambda_context(lambda_context)
    from chalicelib.container import get_container

    def call(record: dict) -> dict:
        return work(request)

    runner = idempotent_function(data_keyword_argument="record", persistence_store=get_container().idempotency_store,
                                 config=config)(call)
    try:
        return runner(record=record)
    except IdempotencyValidationError:
        raise Unprocessable("Idempotency-Key was already used for a different request",
                            code="IDEMPOTENCY_KEY_REUSED", field="Idempotency-Key") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("a request with this Idempotency-Key is still in progress",
                       code="IDEMPOTENCY_IN_PROGRESS") from None
