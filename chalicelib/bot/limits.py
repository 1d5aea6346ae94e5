"""Token buckets as plain arithmetic; storage and its conditional writes live in the adapters."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FloodPolicy:
    burst: int = 8                   # updates a user may send at once
    per_minute: int = 30             # sustained rate
    notice_every_ms: int = 60_000    # at most one "slow down" notice a minute


@dataclass(frozen=True)
class Taken:
    allowed: bool
    tokens: float
    refilled_ms: int


def take(tokens: float | None, refilled_ms: int, now_ms: int, policy: FloodPolicy) -> Taken:
    """Refill by elapsed time, then take one token if there is one."""
    current = float(policy.burst) if tokens is None else float(tokens)
    elapsed = max(0, now_ms - refilled_ms) if refilled_ms else 0
    current = min(float(policy.burst), current + elapsed * policy.per_minute / 60_000)
    if current >= 1:
        return Taken(True, current - 1, now_ms)
    return Taken(False, current, now_ms)
