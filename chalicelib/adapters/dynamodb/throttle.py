"""A token bucket shared by every Lambda: bulk notifications stay under ~25 messages a second.

Each 200 ms slot is a bucket of 5 tokens in the Guards table, taken with one atomic conditional ADD
(no read, no lost updates under contention). Any sliding second spans at most six slots, so at most
30 sends: Telegram's documented limit for a bot across all chats.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Callable

from pynamodb.exceptions import UpdateError

from chalicelib.adapters.dynamodb.models import GuardItem

SLOT_MS = 200
TOKENS_PER_SLOT = 5  # 25 a second
SLOT_TTL_SECONDS = 120


class SharedSendBucket:
    def __init__(self, clock: Callable[[], datetime], sleep: Callable[[float], None] = time.sleep, *,
                 name: str = "telegram-bulk", tokens_per_slot: int = TOKENS_PER_SLOT, slot_ms: int = SLOT_MS,
                 max_wait_seconds: float = 10.0) -> None:
        self._clock = clock
        self._sleep = sleep
        self._name = name
        self._tokens = tokens_per_slot
        self._slot_ms = slot_ms
        self._max_wait = max_wait_seconds

    def acquire(self) -> bool:
        """Wait for a token; False when none came within the wait budget (the caller sends anyway and
        lets Telegram's retry_after pace it)."""
        waited = 0.0
        tried = -1
        while waited <= self._max_wait:
            now = self._clock()
            now_ms = int(now.timestamp() * 1000)
            # The next slot after the one that was full, even if the clock has not moved (a fake clock).
            slot = max(now_ms // self._slot_ms, tried + 1)
            if self._take(slot, int(now.timestamp())):
                return True
            tried = slot
            pause = max(0.0, ((slot + 1) * self._slot_ms - now_ms) / 1000)
            self._sleep(pause)
            waited += pause or self._slot_ms / 1000
        return False

    def _take(self, slot: int, now_s: int) -> bool:
        item = GuardItem(f"bucket#{self._name}#{slot}")
        try:
            item.update(actions=[GuardItem.tokens.add(1), GuardItem.expires_at.set(now_s + SLOT_TTL_SECONDS)],
                        condition=GuardItem.tokens.does_not_exist() | (GuardItem.tokens < self._tokens))
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
