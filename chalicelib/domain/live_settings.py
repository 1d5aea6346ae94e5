"""Settings operators change without a deploy (prices, plans), read at most every CACHE_SECONDS per container."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

from chalicelib.domain.ports.common import Clock, SettingsStore

CACHE_SECONDS = 30
Parsed = TypeVar("Parsed")


class LiveSettings:
    """The one settings cache: each setting is read and parsed once per CACHE_SECONDS, so a change is live
    within that everywhere."""

    def __init__(self, store: SettingsStore, clock: Clock, cache_seconds: int = CACHE_SECONDS) -> None:
        self._store = store
        self._clock = clock
        self._ttl = timedelta(seconds=cache_seconds)
        self._cached: dict[str, tuple[datetime, Any]] = {}

    def get(self, setting_id: str, parse: Callable[[Any], Parsed]) -> Parsed:
        """`parse` turns the stored value (None when absent) into what callers use."""
        now = self._clock.now()
        cached = self._cached.get(setting_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        value = parse(self._store.get(setting_id))
        self._cached[setting_id] = (now, value)
        return value

    def forget(self) -> None:
        """Read every setting again on next use (after an operator's change in the same container)."""
        self._cached.clear()
