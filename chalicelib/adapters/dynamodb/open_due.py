"""The sparse `open-due` index, sharded: orders a job must look at, by status and the time they are due.

Every order creation writes one index item under its status, and a GSI partition key takes at most about
1,000 writes a second, so one `PENDING` key would cap order creation at that, whatever the table's limits.
The key is `<status>` for shard 0 and `<status>#<n>` for shards 1..OPEN_DUE_SHARDS-1, the shard chosen by the
order id, so an order keeps its shard for life; orders written before sharding carry the bare status and are
shard 0. A job reads every shard of a status: one Query per shard (more when a shard has over a page due).
"""
from __future__ import annotations

import zlib
from datetime import datetime

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.models import OrderItem
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.shared import decode_cursor, encode_cursor

OPEN_DUE_SHARDS = 8
_INDEX_KEY = {"order_id": "S", "open_status": "S", "due_at": "S"}


def open_due_key(status: OrderStatus, order_id: str) -> str:
    shard = zlib.crc32(order_id.encode()) % OPEN_DUE_SHARDS
    return status.value if shard == 0 else f"{status.value}#{shard}"


def shard_keys(status: OrderStatus) -> list[str]:
    return [status.value] + [f"{status.value}#{shard}" for shard in range(1, OPEN_DUE_SHARDS)]


def query_due(status: OrderStatus, due_before: datetime, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """Up to `limit` index items due by `due_before`, shard after shard, and the cursor of the rest."""
    shard, start = _position(status, cursor)
    keys = shard_keys(status)
    items: list = []
    while shard < len(keys) and len(items) < limit:
        result = OrderItem.by_open_due.query(keys[shard], OrderItem.due_at <= due_before, limit=limit - len(items),
                                             last_evaluated_key=start)
        items += list(result)
        start = result.last_evaluated_key
        if start is None:
            shard += 1
    if shard >= len(keys):
        return items, None
    return items, encode_cursor({"shard": shard, "key": start})


def _position(status: OrderStatus, cursor: str | None) -> tuple[int, dict | None]:
    position = decode_cursor(cursor)
    if position is None:
        return 0, None
    shard = position.get("shard")
    if set(position) != {"shard", "key"} or not isinstance(shard, int) or not 0 <= shard < OPEN_DUE_SHARDS:
        raise ValidationFailed("cursor is not one this API returned", code="INVALID_CURSOR", field="cursor")
    key = position["key"]
    if key is None:
        return shard, None
    return shard, start_key(encode_cursor(key), _INDEX_KEY, {"open_status": shard_keys(status)[shard]})
