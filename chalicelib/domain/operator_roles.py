"""The panel's roles and the principals' prefixes: what every route module needs when the app is imported, apart
from the operators' service (chalicelib/domain/operators.py), which loads with the first panel request."""
from __future__ import annotations

from enum import IntEnum

from chalicelib.domain.errors import ValidationFailed

OPERATOR_PREFIX = "operator:"
DISTRIBUTOR_PREFIX = "dist:"


class Role(IntEnum):
    VIEWER = 1
    OPERATOR = 2
    OWNER = 3

    @classmethod
    def named(cls, name: str) -> Role:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValidationFailed("role: must be viewer, operator or owner", code="ROLE_INVALID",
                                   field="role") from None

    @property
    def label(self) -> str:
        return self.name.lower()
