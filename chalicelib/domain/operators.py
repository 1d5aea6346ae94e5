"""Named operators of the panel, their roles, passwords and sign-in sessions.

Roles nest: a viewer reads, an operator also acts on orders, payments, wallets, settings and distributors, an
owner also manages operators. Passwords are hashed with scrypt (hashlib, memory-hard, in the standard library)
and a per-password salt; the stored form names its parameters so they can be raised later. A session is a
random token in a cookie; only its SHA-256 is stored, with the CSRF token every change must echo, an expiry,
and a revoked flag. Failed sign-ins spend tokens of a bucket per name and per address (attempt_limits)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthenticated, ValidationFailed
from chalicelib.domain.operator_roles import DISTRIBUTOR_PREFIX, OPERATOR_PREFIX, Role

if TYPE_CHECKING:
    from chalicelib.domain.attempt_limits import AttemptLimiter
    from chalicelib.domain.ports.common import Clock
    from chalicelib.domain.ports.operators import OperatorStore, SessionStore

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1     # about 16 MiB and 50 ms a check: OWASP's scrypt minimum
MIN_PASSWORD_LENGTH = 12
SESSION_TOKEN_BYTES = 32
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
LIMITER_NAMESPACE = "signin"
def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 2 ** 20)
    encode = base64.urlsafe_b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.urlsafe_b64decode(digest)
        computed = hashlib.scrypt(password.encode(), salt=base64.urlsafe_b64decode(salt), n=int(n), r=int(r),
                                  p=int(p), maxmem=64 * 2 ** 20)
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(computed, expected)


# Checked when the name is unknown, for equal work whether it exists or not. Written out rather than computed:
# an scrypt at import would cost every cold Lambda 50 ms (tests check it is hash_password of its salt).
DUMMY_HASH = ("scrypt$16384$8$1$MDAwMDAwMDAwMDAwMDAwMA==$"
              "kRlyk-bZrscd6yLgGW1pQJbhFO9JiEzjygdSZu3BwsIuvzKqThdrdMThJT5GEnumE86AQ_8ChqVf-h4mBKa75Q==")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Operator:
    name: str
    role: Role
    password_hash: str
    active: bool
    created_at: datetime
    created_by: str

    def view(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role.label, "active": self.active,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by}


@dataclass(frozen=True)
class PanelSession:
    """A signed-in operator (`principal` operator:<name>) or distributor (dist:<id>)."""

    token_hash: str
    principal: str
    role: Role
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    source_ip: str | None = None

    @property
    def operator_name(self) -> str:
        return self.principal.removeprefix(OPERATOR_PREFIX)

    def actor(self, request_id: str | None = None) -> AdminActor:
        """The audit log's actor: the operator's name where an API key's fingerprint would be."""
        return AdminActor(self.principal, request_id, self.source_ip)

    def require(self, role: Role) -> None:
        if self.role < role:
            raise Forbidden(f"this needs the {role.label} role; you are {self.role.label}", code="ROLE_REQUIRED")

    def csrf_matches(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(presented.encode(), self.csrf_token.encode())


@dataclass(frozen=True)
class SignIn:
    token: str              # for the cookie; never stored
    session: PanelSession


class OperatorService:
    def __init__(self, operators: OperatorStore, sessions: SessionStore, limiter: AttemptLimiter, clock: Clock,
                 session_lifetime: timedelta, audit: Any) -> None:
        self._operators = operators
        self._sessions = sessions
        self._limiter = limiter
        self._clock = clock
        self._lifetime = session_lifetime
        self._audit = audit     # record_action(actor, action, target, **details)

    # ------------------------------------------------------------------ accounts
    def create(self, actor: AdminActor, name: str, role: Role, password: str) -> Operator:
        """By an owner in the panel, or from the command line (actor `cli`). 409 when the name exists."""
        name = name.strip().lower()
        if not NAME_PATTERN.match(name):
            raise ValidationFailed("name: 2 to 32 lower-case letters, digits, '.', '_' or '-', starting with a "
                                   "letter", code="NAME_INVALID", field="name")
        _check_password(password)
        operator = Operator(name, role, hash_password(password), True, self._clock.now(), actor.key_fingerprint)
        if not self._operators.create(operator):
            raise Conflict(f"operator {name} exists already", code="OPERATOR_EXISTS", field="name")
        self._audit.record_action(actor, "operator.create", OPERATOR_PREFIX + name, before=None,
                                  after={"role": role.label, "active": True})
        return operator

    def list(self) -> list[Operator]:
        return sorted(self._operators.all(), key=lambda operator: operator.name)

    def set_active(self, actor: AdminActor, name: str, active: bool) -> Operator:
        """Disabling also revokes every session the operator holds."""
        current = self._operators.get(name)
        if current is None:
            raise NotFound(f"operator {name} not found", code="OPERATOR_NOT_FOUND", field="name")
        if actor.key_fingerprint == OPERATOR_PREFIX + name and not active:
            raise Conflict("you cannot disable yourself", code="OPERATOR_SELF", field="name")
        changed = replace(current, active=active)
        if not self._operators.replace(changed, expected_active=current.active):
            raise Conflict("the operator changed meanwhile; try again", code="OPERATOR_CHANGED")
        revoked = 0 if active else self._sessions.revoke_all(OPERATOR_PREFIX + name)
        self._audit.record_action(actor, "operator.enable" if active else "operator.disable", OPERATOR_PREFIX + name,
                                  before={"active": current.active}, after={"active": active},
                                  sessions_revoked=revoked)
        return changed

    # ------------------------------------------------------------------ sessions
    def sign_in(self, name: str, password: str, source_ip: str | None) -> SignIn:
        """401 for a wrong name or password alike; 429 once the name's or the address's attempts run out."""
        name = name.strip().lower()[:64]
        now = self._clock.now()
        permit = self._limiter.take([f"name:{name}", f"ip:{source_ip or 'unknown'}"], now)
        if not permit.granted:
            raise RateLimited("too many failed sign-ins; wait before trying again", code="SIGN_IN_LIMITED",
                              retry_after=permit.wait_seconds)
        operator = self._operators.get(name) if NAME_PATTERN.match(name) else None
        matches = password_matches(password, operator.password_hash if operator else DUMMY_HASH)
        if operator is None or not matches or not operator.active:
            raise Unauthenticated("the name or the password is wrong", code="SIGN_IN_FAILED")
        self._limiter.give_back(permit)   # only failures spend the buckets
        return self._open(OPERATOR_PREFIX + name, operator.role, source_ip)

    def open_for_distributor(self, distributor_id: str, source_ip: str | None) -> SignIn:
        """The distributor portal's session, after its bearer token was checked."""
        return self._open(DISTRIBUTOR_PREFIX + distributor_id, Role.VIEWER, source_ip)

    def _open(self, principal: str, role: Role, source_ip: str | None) -> SignIn:
        now = self._clock.now()
        token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
        session = PanelSession(token_digest(token), principal, role, secrets.token_urlsafe(24), now,
                               now + self._lifetime, source_ip)
        self._sessions.create(session)
        return SignIn(token, session)

    def session(self, token: str | None) -> PanelSession:
        """The live session behind a cookie; 401 when it is missing, unknown, expired or revoked. An
        operator's role is read again, so a disabled operator is out at once."""
        if not token or len(token) > 128:
            raise Unauthenticated("sign in first", code="SESSION_MISSING")
        session = self._sessions.get(token_digest(token))
        if session is None:
            raise Unauthenticated("the session is unknown or was revoked; sign in again", code="SESSION_INVALID")
        if session.expires_at <= self._clock.now():
            raise Unauthenticated("the session expired; sign in again", code="SESSION_EXPIRED")
        if session.principal.startswith(OPERATOR_PREFIX):
            operator = self._operators.get(session.operator_name)
            if operator is None or not operator.active:
                raise Unauthenticated("this operator is disabled", code="SESSION_INVALID")
            session = replace(session, role=operator.role)
        return session

    def sign_out(self, session: PanelSession) -> None:
        self._sessions.revoke(session.token_hash)

    def revoke_all(self, actor: AdminActor, name: str) -> int:
        revoked = self._sessions.revoke_all(OPERATOR_PREFIX + name)
        self._audit.record_action(actor, "operator.revoke_sessions", OPERATOR_PREFIX + name, revoked=revoked)
        return revoked


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 256:
        raise ValidationFailed(f"password: {MIN_PASSWORD_LENGTH} to 256 characters", code="PASSWORD_WEAK",
                               field="password")
