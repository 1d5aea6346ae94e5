"""Operator alerts that no order event raises: messages waiting in a dead-letter queue."""
from __future__ import annotations

from typing import Callable, Mapping

from chalicelib.domain.notices import Notices


class DeadLetterWatch:
    """Each dead-letter queue holding messages raises one alert (the notifier's cooldown spaces repeats)."""

    def __init__(self, depths: Callable[[], Mapping[str, int]], notices: Notices) -> None:
        self._depths = depths
        self._notices = notices

    def check(self) -> dict[str, int]:
        depths = dict(self._depths())
        for queue, waiting in sorted(depths.items()):
            if waiting > 0:
                self._notices.alert(f"dead-letters:{queue}",
                                     f"{waiting} message(s) wait in the dead-letter queue {queue}: "
                                     "they failed five times. Inspect them, fix the cause, then redrive.")
        return depths
