"""Powertools idempotency around order creation: a retried POST with the same Idempotency-Key returns
the order the first one made (24 h), and a key reused for a different request is refused."""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.domain.errors import Conflict, Unprocessable, ValidationFailed

IDEMPOTENCY_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
                               field="Idempotency-Key")
    return key


def run_once(request: dict, key: str | None, work: Callable[[dict], dict],
             validated_fields: tuple[str, ...], lambda_context: Any = None) -> dict:
    """Run `work(request)`; with a key, at most once per (request["scope"], key). The stored answer is
    returned for a retry; a retry whose `validated_fields` differ is refused."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (IdempotencyAlreadyInProgressError,
                                                                        IdempotencyValidationError)

    if check_key(key) is None:
        return work(request)
    config = IdempotencyConfig(event_key_jmespath="[scope, idempotency_key]",
                               payload_validation_jmespath="[" + ", ".join(validated_fields) + "]",
                               expires_after_seconds=IDEMPOTENCY_SECONDS)
    if lambda_context is not None:
        # Lets an in-progress record expire with the invocation if the function dies mid-request.
        config.register_lambda_context(lambda_context)
    from chalicelib.container import get_container

    runner = idempotent_function(data_keyword_argument="request",
                                 persistence_store=get_container().idempotency_store,
                                 config=config)(work)
    try:
        return runner(request={**request, "idempotency_key": key})
    except IdempotencyValidationError:
        raise Unprocessable("Idempotency-Key was already used for a different request",
                            code="IDEMPOTENCY_KEY_REUSED", field="Idempotency-Key") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("a request with this Idempotency-Key is still in progress",
                       code="IDEMPOTENCY_IN_PROGRESS") from None
