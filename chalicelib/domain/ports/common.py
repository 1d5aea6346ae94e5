"""Ports every area uses: time, ids, pages of results, write outcomes, live settings and guards."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, Sequence


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    cursor: str | None


class WriteResult(StrEnum):
    """The outcome of one conditional write (or transaction) whose condition names what was read."""

    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"    # the record this write creates exists already (a replay): read it
    STALE = "STALE"            # the item the write is about left the expected state: someone else acted
    CHANGED = "CHANGED"        # a shared item (a code's uses) changed since it was read: read it again
    BUSY = "BUSY"              # throttled or a concurrent transaction on the same item: back off
    UNKNOWN = "UNKNOWN"        # no answer (a timeout, a 5xx): it may have been applied; read what it makes


class SettingsStore(Protocol):
    def get(self, setting_id: str) -> Any | None: ...

    def put(self, setting_id: str, value: Any) -> None: ...


class GuardStore(Protocol):
    def claim(self, guard_id: str, ttl_seconds: int, now: datetime) -> bool:
        """Take a marker that nobody holds (or whose time ran out); False when it is held."""

    def held_until(self, guard_ids: list[str]) -> dict[str, int]:
        """When each of these markers that was ever taken runs out (epoch seconds); markers never taken are absent."""
