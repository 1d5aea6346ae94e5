"""Who is calling, one function per kind of caller. Route modules authenticate only through here, first
thing in a handler, so a refused caller gets its 401/403 before anything is read or written.

    buyer        X-Telegram-Init-Data (Mini App init data)       current_buyer
    distributor  Authorization: Bearer <token>                   current_distributor
    admin        X-Api-Key                                       admin_actor
    Telegram     X-Telegram-Bot-Api-Secret-Token                 verify_telegram_webhook
    payments     X-Signature (HMAC of the raw body)              verify_payment_webhook

Everything heavy is imported where it is used: `app.py` imports the route modules, which import this."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.domain.distributors import AdminActor, Distributor
    from chalicelib.domain.users import TelegramUser

TELEGRAM_SECRET_HEADER = "x-telegram-bot-api-secret-token"


def _container():
    from chalicelib.container import get_container

    return get_container()


def source_ip(request: Any) -> str | None:
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


def current_buyer(request: Any) -> TelegramUser:
    """The Telegram user behind X-Telegram-Init-Data: 401 when it is missing, forged or too old."""
    from chalicelib.domain.signatures import validate_init_data

    container = _container()
    settings = container.settings
    return validate_init_data(request.headers.get("x-telegram-init-data"),
                              settings.telegram_bot_token.get_secret_value(), container.clock.now(),
                              settings.init_data_max_age_seconds)


def current_distributor(request: Any) -> Distributor:
    """The distributor behind the bearer token: 401 unknown, 403 disabled."""
    return _container().distributors.authenticate(request.headers.get("authorization"))


def admin_actor(request: Any) -> AdminActor:
    """The admin behind X-Api-Key (401 missing or wrong, counted as AdminAuthFailed), with the request id and
    source address the audit log records."""
    from chalicelib.api.http import request_id
    from chalicelib.domain.distributors import authenticate_admin
    from chalicelib.domain.errors import DomainError
    from chalicelib.observability import count

    try:
        return authenticate_admin(request.headers.get("x-api-key"),
                                  _container().settings.granted("admin_api_key").get_secret_value(), request_id(),
                                  source_ip(request))
    except DomainError:
        count("AdminAuthFailed")
        raise


def verify_telegram_webhook(request: Any) -> None:
    """Telegram echoes the secret we gave setWebhook; 401 when the header does not match it."""
    import hmac

    from chalicelib.domain.errors import Unauthenticated

    expected = _container().settings.granted("telegram_webhook_secret").get_secret_value().encode()
    supplied = (request.headers.get(TELEGRAM_SECRET_HEADER) or "").encode()
    if not hmac.compare_digest(supplied, expected):
        raise Unauthenticated("the secret token header does not match", code="WEBHOOK_SECRET_INVALID")


def verify_payment_webhook(request: Any) -> None:
    """X-Signature over the raw body with any current webhook secret, within the clock tolerance; 401 else."""
    from chalicelib.domain.signatures import verify_signature_header

    container = _container()
    settings = container.settings
    verify_signature_header(request.headers.get("x-signature"), request.raw_body or b"",
                            tuple(secret.get_secret_value() for secret in settings.granted("payment_webhook_secrets")),
                            container.clock.now(), settings.signature_tolerance_seconds)
