"""The fulfillment worker: one chunk of a paid code order per message (a continuation message follows)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.adapters.sqs import FULFILLMENT_QUEUE
from chalicelib.api.workers import process_batch
from chalicelib.observability import logger

fulfillment = Blueprint(__name__)


def _fulfil(body: dict) -> None:
    from chalicelib.container import get_container

    order_id = body["order_id"]
    logger.append_keys(order_id=order_id)
    get_container().fulfillment.fulfil(order_id)


@fulfillment.on_sqs_message(queue=FULFILLMENT_QUEUE, batch_size=1, name="fulfill_code_orders")
def fulfill_code_orders(event):
    return process_batch(event, _fulfil)
