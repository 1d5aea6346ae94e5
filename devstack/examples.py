"""Ready-to-paste requests against the local stack, signed with the local stage's fake secrets."""
from __future__ import annotations

import json
import secrets
import shlex
import time
from decimal import Decimal, InvalidOperation

from chalicelib.domain.signatures import build_init_data, sign_payload

USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
SENDER_ADDRESS = "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p"


def usdt_micros(amount: str) -> int:
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"amount {amount!r} is not a number") from None
    micros = value * 1_000_000
    if not value.is_finite() or value <= 0 or micros != micros.to_integral_value():
        raise ValueError(f"amount {amount!r} must be positive with at most 6 decimal places")
    return int(micros)


def transfer(amount: str, to: str, transaction_id: str | None = None, *, confirmed: bool = True) -> dict:
    """One TRC20 USDT transfer as the chain watcher posts it to /webhooks/payments/trc20."""
    return {"transaction_id": transaction_id or secrets.token_hex(32),   # a TRON id: 64 hex digits
            "token_info": {"symbol": "USDT", "address": USDT_CONTRACT, "decimals": 6},
            "block_timestamp": int(time.time() * 1000), "from": SENDER_ADDRESS, "to": to, "type": "Transfer",
            "value": str(usdt_micros(amount)), "confirmed": confirmed}


def signed_payment(amount: str, to: str, secret: str, transaction_id: str | None = None,
                   timestamp: int | None = None) -> tuple[bytes, str]:
    """(raw body, X-Signature header value)."""
    raw = json.dumps(transfer(amount, to, transaction_id), separators=(",", ":")).encode()
    return raw, sign_payload(secret, int(time.time()) if timestamp is None else timestamp, raw)


def payment_curl(api_url: str, amount: str, to: str, secret: str, transaction_id: str | None = None) -> str:
    raw, signature = signed_payment(amount, to, secret, transaction_id)
    return (f"curl -X POST {api_url}/webhooks/payments/trc20 -H 'Content-Type: application/json' "
            f"-H {shlex.quote('X-Signature: ' + signature)} --data-raw {shlex.quote(raw.decode())}")


def init_data(bot_token: str, user_id: int = 1001, first_name: str = "Local") -> str:
    """Mini App init data for a made-up user; the API accepts it for a day."""
    return build_init_data(bot_token, {"id": user_id, "first_name": first_name, "language_code": "en"},
                           int(time.time()))


def order_curl(api_url: str, bot_token: str, user_id: int = 1001, product_id: str = "premium_3m") -> str:
    body = json.dumps({"product_id": product_id}, separators=(",", ":"))
    return (f"curl -X POST {api_url}/orders -H 'Content-Type: application/json' "
            f"-H {shlex.quote('X-Telegram-Init-Data: ' + init_data(bot_token, user_id))} --data-raw {shlex.quote(body)}")
