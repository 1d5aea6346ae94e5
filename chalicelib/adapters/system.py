"""The clock and the id generator the domain is given."""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

# Crockford base32 without I, L, O, U: ids are read aloud to support.
from chalicelib.domain.shared import CROCKFORD_ALPHABET as _ALPHABET


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class SortableIds:
    """26 characters: 48 bits of milliseconds then 80 random bits, so ids sort by creation time."""

    def new_id(self) -> str:
        value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
        chars = []
        for _ in range(26):
            value, index = divmod(value, 32)
            chars.append(_ALPHABET[index])
        return "".join(reversed(chars))
