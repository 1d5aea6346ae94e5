"""Typed domain errors. The API layer maps each kind to one HTTP status, in one place."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose; `code` is stable for clients."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 retry_after: int | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.retry_after = retry_after
        self.details = details or {}


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class Gone(DomainError):
    code = "GONE"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(DomainError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class Unprocessable(DomainError):
    code = "UNPROCESSABLE"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class Unavailable(DomainError):
    code = "UNAVAILABLE"


class ConfigurationError(Exception):
    """A setting is missing or malformed; start-up stops with its name."""
