"""Operator alerts that no order event raises (messages waiting in a dead-letter queue), and the panel page each
alert links to."""
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


# An alert's key names what it is about ("needs-review:<order id>", "payment:UNMATCHED", ...): its panel page.
ORDER_ALERTS = ("needs-review:", "delivery-failed:", "code-pack-failed:", "codes-document:")


def panel_link(base_url: str | None, key: str) -> str | None:
    """The panel page an operator opens to act on the alert; None without a configured panel."""
    if not base_url:
        return None
    base = base_url.rstrip("/")
    for prefix in ORDER_ALERTS:
        if key.startswith(prefix):
            return f"{base}/panel/orders/{key[len(prefix):]}"
    if key.startswith("payment:"):
        return f"{base}/panel/payments"
    if key.startswith("reconciliation:"):
        return f"{base}/panel/reports?day={key.split(':', 1)[1]}"
    if key.startswith(("dead-letters:", "stars-low")):
        return f"{base}/panel/dashboard"
    return None
