"""PynamoDB models: the only code that knows item shapes. Keys and indexes mirror infra/resources.yaml
(tests/infra checks that they do). Table names are bound at run time from the resource prefix.

The models live by area (orders.py, accounts.py, codes.py); this package keeps every name importable
from `chalicelib.adapters.dynamodb.models` and owns the binding and the shared low-level connection."""
from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.models import Model

from chalicelib.adapters import aws

from chalicelib.adapters.dynamodb.models.accounts import (AccountItem, ConversationItem, GuardItem, SettingItem,
                                                          UsernameIndex)
from chalicelib.adapters.dynamodb.models.codes import (AuditItem, CodeItem, DistributorItem,
                                                       DistributorRedeemedIndex, DistributorStatItem,
                                                       RedemptionItem)
from chalicelib.adapters.dynamodb.models.ledger import EntryDayIndex, LedgerItem
from chalicelib.adapters.dynamodb.models.orders import (AmountSlotItem, OpenDueIndex, OrderItem, OwnerCreatedIndex,
                                                        PaySlotIndex, PaymentDayIndex, PaymentItem,
                                                        ReviewReceivedIndex)
from chalicelib.adapters.dynamodb.models.operators import OperatorItem, PrincipalIndex, SessionItem
from chalicelib.adapters.dynamodb.models.payouts import OpenPayoutIndex, PayoutItem

__all__ = [
    "ALL_MODELS", "bind", "connection", "table_suffix",
    "OrderItem", "OwnerCreatedIndex", "OpenDueIndex", "PaySlotIndex", "AmountSlotItem",
    "PaymentItem", "ReviewReceivedIndex", "PaymentDayIndex", "LedgerItem", "EntryDayIndex",
    "SettingItem", "AccountItem", "UsernameIndex", "GuardItem", "ConversationItem",
    "DistributorItem", "CodeItem", "RedemptionItem", "DistributorRedeemedIndex", "DistributorStatItem", "AuditItem",
    "OperatorItem", "SessionItem", "PrincipalIndex",
    "PayoutItem", "OpenPayoutIndex",
]

ALL_MODELS: tuple[type[Model], ...] = (
    OrderItem, AmountSlotItem, PaymentItem, SettingItem, AccountItem, GuardItem, ConversationItem,
    DistributorItem, CodeItem, RedemptionItem, DistributorStatItem, AuditItem, LedgerItem,
    OperatorItem, SessionItem, PayoutItem)
_TABLE_SUFFIX = {model: model.Meta.table_name for model in ALL_MODELS}
_connection: Connection | None = None
_model_connection: Connection | None = None


class _SharedSessionConnection(Connection):
    """pynamodb builds a botocore session per connection and per thread; this one uses the container's."""

    @property
    def session(self):  # type: ignore[override]
        return aws.botocore_session()


def bind(prefix: str, region: str, endpoint_url: str | None) -> None:
    """Point every model at `<prefix>-<suffix>` on the given endpoint, all through one connection (one client,
    with the models' timeouts)."""
    global _connection, _model_connection
    for model in ALL_MODELS:
        model.Meta.table_name = f"{prefix}-{_TABLE_SUFFIX[model]}"
        model.Meta.region = region
        model.Meta.host = endpoint_url
        model._connection = None
    meta = OrderItem.Meta
    _connection = None
    _model_connection = shared = _SharedSessionConnection(
        region=region, host=endpoint_url, connect_timeout_seconds=meta.connect_timeout_seconds,
        read_timeout_seconds=meta.read_timeout_seconds, max_retry_attempts=meta.max_retry_attempts)
    for model in ALL_MODELS:  # no I/O: a table connection is its schema; its client is built on first use
        table = model._get_connection()
        shared.add_meta_table(table.get_meta_table())
        table.connection = shared


def connection() -> Connection:
    """The low-level connection of transactions and the raw adapters, with pynamodb's default timeouts as
    before (a transaction waits longer than a read); its client comes from the same botocore session."""
    global _connection
    if _connection is None:
        _connection = _SharedSessionConnection(region=OrderItem.Meta.region, host=OrderItem.Meta.host)
    return _connection


def table_suffix(model: type[Model]) -> str:
    return _TABLE_SUFFIX[model]
