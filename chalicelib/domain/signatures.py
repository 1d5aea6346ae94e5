"""Request authentication that needs only the standard library: webhook signatures and Mini App init data."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import parse_qsl

from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.users import TelegramUser


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
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.lower())
    if timestamp is None or not candidates:
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
    received_hash = fields.pop("hash", "")
    data_check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret_key, data_check_string.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received_hash.lower()):
        raise Unauthenticated("X-Telegram-Init-Data signature does not match", code="INIT_DATA_INVALID")
    auth_date = fields.get("auth_date", "")
    if not auth_date.isdigit():
        raise Unauthenticated("X-Telegram-Init-Data has no auth_date", code="INIT_DATA_INVALID")
    age = now.timestamp() - int(auth_date)
    if age > max_age_seconds or age < -300:
        raise Unauthenticated("X-Telegram-Init-Data is too old", code="INIT_DATA_EXPIRED")
    try:
        user = json.loads(fields.get("user", ""))
        user_id = user["id"]
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise Unauthenticated("X-Telegram-Init-Data has no valid user", code="INIT_DATA_INVALID") from None
    return TelegramUser(user_id=user_id, first_name=str(user.get("first_name", "")),
                        last_name=str(user.get("last_name", "")),
                        username=user.get("username"), language_code=user.get("language_code"))


def build_init_data(bot_token: str, user: dict, auth_date: int, extra: dict | None = None) -> str:
    """The signed query string a Mini App receives; used by local tools and tests."""
    from urllib.parse import urlencode

    fields = {"auth_date": str(auth_date), "user": json.dumps(user, separators=(",", ":")), **(extra or {})}
    data_check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret_key, data_check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)

