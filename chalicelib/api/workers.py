"""SQS workers and schedules: thin adapters from Lambda events to one domain service call each."""
from __future__ import annotations

import json
from typing import Any, Callable

from chalice import Blueprint, Rate

from chalicelib.adapters.sqs import DELIVERY_QUEUE
from chalicelib.observability import logger

workers = Blueprint(__name__)


def process_batch(event: Any, handle: Callable[[dict], None]) -> dict:
    """Powertools batch processing: only the records that failed come back, as batchItemFailures."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    def record_handler(record: Any) -> None:
        logger.set_correlation_id(record.message_id)
        try:
            body = json.loads(record.body)
        except ValueError:
            logger.error("message body is not JSON; it will go to the dead-letter queue")
            raise
        handle(body)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event.to_dict(), record_handler=record_handler, processor=processor,
                                    context=event.context)


def _report(job: str, report) -> dict:
    for order_id in report.order_ids:
        logger.info(f"{job} acted on order", extra={"order_id": order_id})
    summary = report.summary()
    logger.info(f"{job} finished", extra=summary)
    return summary


def _deliver(body: dict) -> None:
    from chalicelib.container import get_container

    order_id = body["order_id"]
    logger.append_keys(order_id=order_id)
    order = get_container().delivery.deliver(order_id)
    logger.info("delivery message handled", extra={"status": order.status.value if order else "nothing to claim"})


@workers.on_sqs_message(queue=DELIVERY_QUEUE, batch_size=10, name="deliver_orders")
def deliver_orders(event):
    return process_batch(event, _deliver)


@workers.schedule(Rate(1, unit=Rate.MINUTES), name="expire_orders")
def expire_orders(event):
    from chalicelib.container import get_container

    return _report("expire_orders", get_container().upkeep.expire_orders())


@workers.schedule(Rate(5, unit=Rate.MINUTES), name="repair_orders")
def repair_orders(event):
    from chalicelib.container import get_container

    return _report("repair_orders", get_container().upkeep.repair_orders())
