"""Distributors, their bearer tokens, and the admin access that manages them (every admin action audited).

A distributor's token is `<distributor id>.<43 random url-safe characters>` and is shown once; only its
SHA-256 is stored. Checking a token is one consistent read by the id it names and a constant-time
comparison of hashes, so a rotated token stops working at once (no index lag).

The admin key setting (ADMIN_API_KEY) holds either the key itself (local stage) or `sha256:<hex digest>`
of it (deployed stages, so the parameter store never holds the key in the clear). Either way the
comparison is between SHA-256 digests, in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Callable

from chalicelib.domain.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated
from chalicelib.domain.ports.common import Clock, IdGenerator, Page
from chalicelib.domain.shared import iso

if TYPE_CHECKING:
    from chalicelib.domain.ports.people import AuditStore, DistributorStore

HASH_PREFIX = "sha256:"
TOKEN_SECRET_BYTES = 32
_DUMMY_HASH = hashlib.sha256(b"no distributor").hexdigest()


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def key_matches(provided: str | None, configured: str) -> bool:
    """Constant-time check of a presented admin key against the configured key or its `sha256:` digest."""
    expected = configured[len(HASH_PREFIX):].strip().lower() if configured.startswith(HASH_PREFIX) \
        else sha256_hex(configured)
    presented = sha256_hex(provided or "")
    return hmac.compare_digest(presented, expected) and bool(provided) and bool(configured)


@dataclass(frozen=True)
class AdminActor:
    """Who called an admin route: the key's fingerprint (a digest prefix, never the key) and where from."""

    key_fingerprint: str
    request_id: str | None = None
    source_ip: str | None = None


def authenticate_admin(provided: str | None, configured: str, request_id: str | None = None,
                       source_ip: str | None = None) -> AdminActor:
    if not provided:
        raise Unauthenticated("X-Api-Key header is missing", code="API_KEY_MISSING")
    if not key_matches(provided, configured):
        raise Unauthenticated("X-Api-Key is not valid", code="API_KEY_INVALID")
    return AdminActor(sha256_hex(provided)[:12], request_id, source_ip)


class DistributorStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class Distributor:
    distributor_id: str
    name: str
    telegram_user_id: int | None
    status: DistributorStatus
    token_hash: str
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"distributor_id": self.distributor_id, "name": self.name,
                "telegram_user_id": self.telegram_user_id, "status": self.status.value,
                "created_at": iso(self.created_at), "updated_at": iso(self.updated_at)}


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    at: datetime
    action: str
    outcome: str                     # "ok" or the error code the action was refused with
    actor: str                       # key fingerprint
    target: str | None = None
    request_id: str | None = None
    source_ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "at": iso(self.at), "action": self.action, "outcome": self.outcome,
                "actor": self.actor, "target": self.target, "request_id": self.request_id,
                "source_ip": self.source_ip, "details": self.details}




class DistributorService:
    def __init__(self, store: DistributorStore, audit: AuditStore, clock: Clock, ids: IdGenerator,
                 token_secret: Callable[[], str] = lambda: secrets.token_urlsafe(TOKEN_SECRET_BYTES)) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        self._ids = ids
        self._token_secret = token_secret

    # ------------------------------------------------------------------ admin actions
    def _entry(self, actor: AdminActor, action: str, target: str | None, outcome: str = "ok",
               **details: Any) -> AuditEntry:
        return AuditEntry(entry_id=self._ids.new_id(), at=self._clock.now(), action=action, outcome=outcome,
                          actor=actor.key_fingerprint, target=target, request_id=actor.request_id,
                          source_ip=actor.source_ip, details=details)

    def record_action(self, actor: AdminActor, action: str, target: str | None, **details: Any) -> None:
        """An admin action another service carried out (a wallet adjustment, a reconciliation run), audited
        like these."""
        self._audit.record(self._entry(actor, action, target, **details))

    def record_refusal(self, actor: AdminActor, action: str, target: str | None, error: DomainError) -> None:
        """An admin action that was refused (bad input, unknown distributor) is audited too."""
        self._audit.record(self._entry(actor, action, target, error.code, message=error.message[:200]))

    def create(self, actor: AdminActor, name: str, telegram_user_id: int | None) -> tuple[Distributor, str]:
        now = self._clock.now()
        distributor_id = self._ids.new_id()
        token = self._new_token(distributor_id)
        distributor = Distributor(distributor_id=distributor_id, name=name, telegram_user_id=telegram_user_id,
                                  status=DistributorStatus.ACTIVE, token_hash=sha256_hex(token), created_at=now,
                                  updated_at=now)
        self._store.create(distributor, self._entry(actor, "distributor.create", distributor_id, name=name,
                                                    telegram_user_id=telegram_user_id))
        return distributor, token

    def get(self, actor: AdminActor, distributor_id: str) -> Distributor:
        distributor = self._existing(distributor_id)
        self._audit.record(self._entry(actor, "distributor.get", distributor_id))
        return distributor

    def rotate_token(self, actor: AdminActor, distributor_id: str) -> tuple[Distributor, str]:
        current = self._existing(distributor_id)
        token = self._new_token(distributor_id)
        rotated = replace(current, token_hash=sha256_hex(token), updated_at=self._clock.now())
        if not self._store.replace(rotated, current.token_hash,
                                   self._entry(actor, "distributor.rotate_token", distributor_id)):
            raise Conflict("the distributor changed meanwhile; try again", code="DISTRIBUTOR_CHANGED")
        return rotated, token

    def disable(self, actor: AdminActor, distributor_id: str) -> Distributor:
        """Idempotent. The distributor's API access stops at once; codes already sold stay redeemable."""
        current = self._existing(distributor_id)
        disabled = replace(current, status=DistributorStatus.DISABLED, updated_at=self._clock.now())
        if not self._store.replace(disabled, current.token_hash,
                                   self._entry(actor, "distributor.disable", distributor_id,
                                               was=current.status.value)):
            raise Conflict("the distributor changed meanwhile; try again", code="DISTRIBUTOR_CHANGED")
        return disabled

    def audit_day(self, actor: AdminActor, day: str, limit: int, cursor: str | None) -> Page:
        page = self._audit.list_day(day, limit, cursor)
        self._audit.record(self._entry(actor, "audit.list", None, day=day))
        return page

    def _existing(self, distributor_id: str) -> Distributor:
        distributor = self._store.get(distributor_id) if _plausible_id(distributor_id) else None
        if distributor is None:
            raise NotFound(f"distributor {distributor_id} not found", code="DISTRIBUTOR_NOT_FOUND")
        return distributor

    def _new_token(self, distributor_id: str) -> str:
        return f"{distributor_id}.{self._token_secret()}"

    # ------------------------------------------------------------------ distributors
    def get_by_id(self, distributor_id: str) -> Distributor | None:
        return self._store.get(distributor_id) if _plausible_id(distributor_id) else None

    def authenticate(self, authorization: str | None) -> Distributor:
        """`Authorization: Bearer <token>`: unknown or wrong token 401, disabled distributor 403."""
        if not authorization:
            raise Unauthenticated("Authorization header is missing", code="TOKEN_MISSING")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Authorization must be `Bearer <token>`", code="TOKEN_INVALID")
        distributor_id, _, _ = token.partition(".")
        distributor = self.get_by_id(distributor_id) if len(token) <= 256 else None
        stored = distributor.token_hash if distributor else _DUMMY_HASH
        if not hmac.compare_digest(sha256_hex(token), stored) or distributor is None:
            raise Unauthenticated("the bearer token is not valid", code="TOKEN_INVALID")
        if distributor.status != DistributorStatus.ACTIVE:
            raise Forbidden("this distributor is disabled", code="DISTRIBUTOR_DISABLED")
        return distributor


def _plausible_id(value: str) -> bool:
    return 0 < len(value) <= 64 and value.isalnum()
