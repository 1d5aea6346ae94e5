"""Schedules that watch for trouble no request reports, and tell the operators' chat."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.observability import logger

alerts = Blueprint(__name__)


@alerts.schedule(Rate(5, unit=Rate.MINUTES), name="watch_dead_letters")
def watch_dead_letters(event):
    from chalicelib.container import get_container

    depths = get_container().dead_letter_watch.check()
    logger.info("dead-letter queues checked", extra={"depths": depths})
    return depths
