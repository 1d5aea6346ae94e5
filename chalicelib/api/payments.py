"""The signed TRC20 payment webhook."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice import Blueprint

from chalicelib.api.auth import verify_payment_webhook
from chalicelib.api.http import guarded, json_response, parse_json
from chalicelib.api.openapi import operation
from chalicelib.domain.errors import ValidationFailed
from chalicelib.observability import logger

payments = Blueprint(__name__)
MAX_TRANSFERS_PER_CALL = 100


@lru_cache(maxsize=1)
def _transfer_list() -> Any:
    """Built once per container, on the first call: building a TypeAdapter compiles its validator."""
    from pydantic import TypeAdapter

    from chalicelib.domain.payment_methods.trc20_transfers import Transfer

    return TypeAdapter(list[Transfer])


def _transfers(document: object) -> list[tuple[object, dict]]:
    from pydantic import ValidationError

    if isinstance(document, dict) and "data" in document:
        items = document["data"]
        if not isinstance(items, list) or not items:
            raise ValidationFailed("data must be a non-empty list of transfers", field="data")
        prefix = "data"
    elif isinstance(document, dict):
        items, prefix = [document], None
    else:
        raise ValidationFailed("the body must be a transfer or {\"data\": [transfers]}", field="body")
    if len(items) > MAX_TRANSFERS_PER_CALL:
        raise ValidationFailed(f"at most {MAX_TRANSFERS_PER_CALL} transfers per call", field="data")
    try:
        transfers = _transfer_list().validate_python(items)
    except ValidationError as error:
        first = error.errors()[0]
        index, *path = first["loc"]
        field = ".".join(str(part) for part in path) or "body"
        if prefix:
            field = f"{prefix}[{index}]" + (f".{field}" if path else "")
        raise ValidationFailed(f"{field}: {first['msg']}", field=field) from None
    return list(zip(transfers, items, strict=True))


@payments.route("/webhooks/payments/trc20", methods=["POST"])
@operation(summary="TRC20 transfers to the shop's addresses", tag="webhooks", auth="payments",
           body="chalicelib.api.webhook_bodies:TransferBatch", response="TransferResults")
@guarded
def trc20_webhook():
    from chalicelib.container import get_container

    request = payments.current_request
    verify_payment_webhook(request)
    transfers = _transfers(parse_json(request.raw_body))
    container = get_container()
    results = [container.receiver_of(transfer.to).handle(transfer, item).as_dict() for transfer, item in transfers]
    for result in results:
        logger.info("transfer handled", extra=result)
    return json_response({"results": results})
