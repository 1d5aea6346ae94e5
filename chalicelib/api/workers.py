"""Schedules: thin adapters from EventBridge events to one domain service call each."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.observability import logger

workers = Blueprint(__name__)


def _report(job: str, report) -> dict:
    for order_id in report.order_ids:
        logger.info(f"{job} acted on order", extra={"order_id": order_id})
    summary = report.summary()
    logger.info(f"{job} finished", extra=summary)
    return summary


@workers.schedule(Rate(1, unit=Rate.MINUTES), name="expire_orders")
def expire_orders(event):
    from chalicelib.container import get_container

    return _report("expire_orders", get_container().upkeep.expire_orders())


@workers.schedule(Rate(5, unit=Rate.MINUTES), name="repair_orders")
def repair_orders(event):
    from chalicelib.container import get_container

    return _report("repair_orders", get_container().upkeep.repair_orders())
