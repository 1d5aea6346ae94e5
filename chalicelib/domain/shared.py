"""The one home of small helpers every layer uses: cursors, ISO times, backoff, the id and code alphabet."""
from __future__ import annotations

import base64
import json
import random
import re
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.errors import ValidationFailed

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # base32 without I, L, O, U: read aloud safely
_ISSUED_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def plausible_id(value: object) -> bool:
    """Could this be an id we issued? Ours are short ASCII words; anything else is not looked up at all (an
    empty key or one over 2 KB is a ValidationException from DynamoDB, a 500 to the caller)."""
    return isinstance(value, str) and _ISSUED_ID.fullmatch(value) is not None


def encode_cursor(position: dict[str, Any] | None) -> str | None:
    """An opaque page cursor: the position (a DynamoDB key or our own) as url-safe base64 JSON."""
    if not position:
        return None
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The position a cursor stands for; a cursor this API did not hand out is a 400 naming `cursor`."""
    if not cursor:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, UnicodeError):
        position = None
    if not isinstance(position, dict):
        raise ValidationFailed("cursor is not one this API returned", code="INVALID_CURSOR", field="cursor")
    return position


def iso(moment: datetime | None) -> str | None:
    """UTC, whole seconds, with a Z: how every answer spells a time."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def backoff_seconds(attempt: int, rng: random.Random, *, base: float = 0.01, cap: float = 0.5) -> float:
    """Exponential backoff with jitter for contended conditional writes: base * 2^attempt, capped."""
    return min(cap, base * 2 ** min(attempt, 10)) * rng.uniform(0.5, 1.0)
