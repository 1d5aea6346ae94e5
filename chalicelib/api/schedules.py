"""Schedules: thin adapters from EventBridge events to one domain service call each. The `name` of each is
its Lambda function's name (.chalice/config.json, infra/, the local stack's `tick`): keep them."""
from __future__ import annotations

from chalice import Blueprint, Cron, Rate

from chalicelib.observability import logger

schedules = Blueprint(__name__)


def _container():
    from chalicelib.container import get_container

    return get_container()


def _report(job: str, report) -> dict:
    for order_id in report.order_ids:
        logger.info(f"{job} acted on order", extra={"order_id": order_id})
    summary = report.summary()
    logger.info(f"{job} finished", extra=summary)
    return summary


@schedules.schedule(Rate(1, unit=Rate.MINUTES), name="expire_orders")
def expire_orders(event):
    return _report("expire_orders", _container().upkeep.expire_orders())


@schedules.schedule(Rate(5, unit=Rate.MINUTES), name="repair_orders")
def repair_orders(event):
    return _report("repair_orders", _container().upkeep.repair_orders())


@schedules.schedule(Rate(5, unit=Rate.MINUTES), name="watch_dead_letters")
def watch_dead_letters(event):
    """Dead-letter queues that hold messages are reported to the operators' chat."""
    depths = _container().dead_letter_watch.check()
    logger.info("dead-letter queues checked", extra={"depths": depths})
    return depths


@schedules.schedule(Cron(15, 0, "*", "*", "?", "*"), name="reconcile_ledger")
def reconcile_ledger(event):
    """Yesterday's books (and any earlier day not reconciled yet, up to a week), once the day has ended and the
    last slow writer of it (a fulfilment runs for up to five minutes) is done: a difference alerts."""
    reports = _container().reconciliation.reconcile_due()
    summary = {"days": [report.day.isoformat() for report in reports],
               "differences": sum(len(report.differences) for report in reports)}
    logger.info("reconcile_ledger finished", extra=summary)
    return summary


@schedules.schedule(Rate(1, unit=Rate.MINUTES), name="drive_payouts")
def drive_payouts(event):
    """On-chain payouts no queue message carries: energy rentals that ended are taken back, automatic swaps
    and withdrawals are driven until they land (each exactly once: chalicelib/domain/payouts.py)."""
    payouts = _container().payouts.sweep()
    summary = {"driven": len(payouts), "landed": sum(payout.state.value == "LANDED" for payout in payouts)}
    logger.info("drive_payouts finished", extra=summary)
    return summary
