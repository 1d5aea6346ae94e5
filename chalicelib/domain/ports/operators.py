"""Operators of the panel and the sessions of the panel and the distributor portal."""
from __future__ import annotations

from typing import Protocol

from chalicelib.domain.operators import Operator, PanelSession


class OperatorStore(Protocol):
    def get(self, name: str) -> Operator | None:
        """Strongly consistent."""

    def all(self) -> list[Operator]: ...

    def create(self, operator: Operator) -> bool:
        """False when the name is taken."""

    def replace(self, operator: Operator, expected_active: bool) -> bool:
        """False when the stored operator is no longer in the expected state."""


class SessionStore(Protocol):
    def create(self, session: PanelSession) -> None: ...

    def get(self, token_hash: str) -> PanelSession | None:
        """Strongly consistent; None when unknown or revoked."""

    def revoke(self, token_hash: str) -> None: ...

    def revoke_all(self, principal: str) -> int:
        """Revoke every session the principal holds (expired ones included); how many."""
