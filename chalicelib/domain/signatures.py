"""Request authentication that needs only the standard library: webhook signatures and Mini App init data."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from urllib.parse import parse_qsl

from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.users import TelegramUser

# Only ASCII forms count: `str.isdigit` and `int()` also take "²" or "٣", and `int()` refuses 4,300+ digits;
# `hmac.compare_digest` raises on non-ASCII text. Anything else is refused before it is compared.
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_SIGNATURES = 8


def sign_payload(secret: str, timestamp: int, raw_body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature_header(header: str | None, raw_body: bytes, secrets: tuple[str, ...], now: datetime,
                            tolerance_seconds: int) -> None:
    """Stripe-style `t=<unix>,v1=<hex>[,v1=...]`; any v1 made with any current secret passes."""
    if not header:
        raise Unauthenticated("X-Signature header is missing", code="SIGNATURE_MISSING")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and _UNIX_SECONDS.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and _HEX_DIGEST.fullmatch(value.lower()):
            candidates.append(value.lower())
    if timestamp is None or not candidates or len(candidates) > MAX_SIGNATURES:
        raise Unauthenticated("X-Signature header is malformed", code="SIGNATURE_INVALID")
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise Unauthenticated("X-Signature timestamp is outside the tolerance", code="SIGNATURE_STALE")
    signed = f"{timestamp}.".encode() + raw_body
    expected = [hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets]
    # Compare every pair so timing does not reveal which secret or candidate came close.
    matched = False
    for digest in expected:
        for candidate in candidates:
            matched |= hmac.compare_digest(digest, candidate)
    if not matched:
        raise Unauthenticated("X-Signature does not match", code="SIGNATURE_INVALID")


def validate_init_data(init_data: str | None, bot_token: str, now: datetime,
                       max_age_seconds: int) -> TelegramUser:
    """Telegram Mini App init data, checked as Telegram documents it."""
    if not init_data:
        raise Unauthenticated("X-Telegram-Init-Data header is missing", code="INIT_DATA_MISSING")
    try:
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise Unauthenticated("X-Telegram-Init-Data is malformed", code="INIT_DATA_INVALID") from None
    received_hash = fields.pop("hash", "").lower()
    if not _HEX_DIGEST.fullmatch(received_hash):
        raise Unauthenticated("X-Telegram-Init-Data hash is malformed", code="INIT_DATA_INVALID")
    data_check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret_key, data_check_string.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received_hash):
        raise Unauthenticated("X-Telegram-Init-Data signature does not match", code="INIT_DATA_INVALID")
    auth_date = fields.get("auth_date", "")
    if not _UNIX_SECONDS.fullmatch(auth_date):
        raise Unauthenticated("X-Telegram-Init-Data has no auth_date", code="INIT_DATA_INVALID")
    age = now.timestamp() - int(auth_date)
    if age > max_age_seconds or age < -300:
        raise Unauthenticated("X-Telegram-Init-Data is too old", code="INIT_DATA_EXPIRED")
    try:
        user = json.loads(fields.get("user", ""))
        user_id = user["id"]
        if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**53:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("X-Telegram-Init-Data has no valid user", code="INIT_DATA_INVALID") from None
    return TelegramUser(user_id=user_id, first_name=_text(user.get("first_name")) or "",
                        last_name=_text(user.get("last_name")) or "", username=_text(user.get("username")),
                        language_code=_text(user.get("language_code")))


def _text(value: object) -> str | None:
    """A profile field as Telegram sends it (a string); anything else counts as absent."""
    return value if isinstance(value, str) and value else None


def build_init_data(bot_token: str, user: dict, auth_date: int, extra: dict | None = None) -> str:
    """The signed query string a Mini App receives; used by local tools and tests."""
    from urllib.parse import urlencode

    fields = {"auth_date": str(auth_date), "user": json.dumps(user, separators=(",", ":")), **(extra or {})}
    data_check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret_key, data_check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)

