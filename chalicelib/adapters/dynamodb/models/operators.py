"""The panel's operators and the sessions of the panel and the distributor portal."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.adapters.dynamodb.models.base import _Meta


class OperatorItem(Model):
    class Meta(_Meta):
        table_name = "operators"

    name = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    active = BooleanAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()


class PrincipalIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "principal"
        projection = KeysOnlyProjection()

    principal = UnicodeAttribute(hash_key=True)


class SessionItem(Model):
    """One per sign-in, keyed by the SHA-256 of the cookie's token; gone (TTL) after it expires."""

    class Meta(_Meta):
        table_name = "sessions"

    token_hash = UnicodeAttribute(hash_key=True)
    principal = UnicodeAttribute()
    role = UnicodeAttribute()
    csrf_token = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()                     # epoch seconds (TTL)
    revoked = BooleanAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)

    by_principal = PrincipalIndex()
