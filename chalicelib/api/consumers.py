"""SQS consumers: each message names a paid order and its kind; the product registry's fulfiller of that
kind carries it on. One function per queue because each queue has its own batch size (infra/)."""
from __future__ import annotations

import json
from typing import Any, Callable

from chalice import Blueprint

from chalicelib.domain.queues import DELIVERY_QUEUE, FULFILLMENT_QUEUE
from chalicelib.observability import logger

consumers = Blueprint(__name__)


def process_batch(event: Any, handle: Callable[[dict], None]) -> dict:
    """Each record on its own; only the records that failed come back, as batchItemFailures (the queues report
    them, see infra/). Powertools' BatchProcessor does the same, but importing it loads its pydantic parser
    models of SQS, DynamoDB, Kinesis and Kafka records (for type hints), tens of milliseconds of a cold start."""
    failures = []
    for record in event.to_dict().get("Records", []):
        message_id = record["messageId"]
        logger.set_correlation_id(message_id)
        try:
            body = json.loads(record["body"])
        except ValueError:
            logger.error("message body is not JSON; it will go to the dead-letter queue")
            failures.append({"itemIdentifier": message_id})
            continue
        try:
            handle(body)
        except Exception:  # any failure of one record is that record's, retried by SQS; the others stand
            logger.exception("record failed; it will be retried")
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def fulfil_order(body: dict) -> None:
    """One paid order. A message without its kind (queued before kinds were carried) costs one read."""
    from chalicelib.container import get_container

    container = get_container()
    order_id = body["order_id"]
    logger.append_keys(order_id=order_id)
    kind = body.get("kind")
    if kind is None:
        order = container.orders.get(order_id)
        if order is None:
            logger.warning("message names an order that does not exist")
            return
        kind = order.kind
    order = container.fulfilment.fulfil(kind, order_id)
    logger.info("order message handled", extra={"status": order.status.value if order else "nothing to claim"})


@consumers.on_sqs_message(queue=DELIVERY_QUEUE, batch_size=10, name="deliver_orders")
def deliver_orders(event):
    return process_batch(event, fulfil_order)


@consumers.on_sqs_message(queue=FULFILLMENT_QUEUE, batch_size=1, name="fulfill_code_orders")
def fulfill_code_orders(event):
    return process_batch(event, fulfil_order)
