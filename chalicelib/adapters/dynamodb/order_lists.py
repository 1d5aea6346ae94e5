"""The operator panel's order lists, read through indexes and paged with a cursor (no scan of the orders table).

- a buyer's orders: the `owner-created` index, the other filters applied to that buyer's orders only;
- by status: the `status-created` index (status, created_at): one Query reads exactly that status's orders;
- any status: every status's partition of `status-created`, merged newest first. A page reads at most
  `limit` (plus the orders it skips at the cursor's instant) from each status, so never more than the number
  of statuses times what it shows; a product filter is applied on the index's items.
The index keys are attributes every order has always had, so it covers orders written before it existed.
Whole ranges (the dashboard's figures, CSV exports) read every status's partition for the range: exactly the
orders created in it, page after page, merged in creation order."""
from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime, timedelta

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.models import OrderItem
from chalicelib.adapters.dynamodb.orders import order_from_item
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.ports.common import Page
from chalicelib.domain.shared import decode_cursor, encode_cursor

_BY_OWNER_KEY = {"order_id": "S", "owner_id": "S", "created_at": "S"}
_BY_STATUS_KEY = {"order_id": "S", "status": "S", "created_at": "S"}
_INSTANT = timedelta(microseconds=1)   # created_at keeps microseconds: [since, until) is between(since, until - 1µs)


def orders_page(since: datetime, until: datetime, *, status: str | None, product_id: str | None,
                owner_id: str | None, limit: int, cursor: str | None) -> Page:
    """Orders created in [since, until) that match the filters, newest first, `limit` at most, and the cursor
    of the next page (None at the end)."""
    if until <= since:   # a range that ends before it starts holds nothing (and DynamoDB refuses the query)
        return Page([], None)
    created = OrderItem.created_at.between(since, until - _INSTANT)
    product = (OrderItem.product_id == product_id) if product_id else None
    if owner_id:
        wanted = _both(product, (OrderItem.status == status) if status else None)
        result = OrderItem.by_owner.query(owner_id, created, filter_condition=wanted, scan_index_forward=False,
                                          limit=limit, last_evaluated_key=start_key(cursor, _BY_OWNER_KEY,
                                                                                    {"owner_id": owner_id}))
        return Page([order_from_item(item) for item in result], encode_cursor(result.last_evaluated_key))
    if status:
        result = OrderItem.by_status.query(status, created, filter_condition=product, scan_index_forward=False,
                                           limit=limit, last_evaluated_key=start_key(cursor, _BY_STATUS_KEY,
                                                                                     {"status": status}))
        return Page([order_from_item(item) for item in result], encode_cursor(result.last_evaluated_key))
    return _merged_page(since, until, product, limit, cursor)


def orders_created(since: datetime, until: datetime) -> Iterator[Order]:
    """Every order created in [since, until), oldest first: each status's orders of the range, merged."""
    if until <= since:
        return iter(())
    created = OrderItem.created_at.between(since, until - _INSTANT)
    streams = [(order_from_item(item) for item in OrderItem.by_status.query(status.value, created))
               for status in OrderStatus]
    return heapq.merge(*streams, key=lambda order: (order.created_at, order.order_id))


def orders_of_owner(owner_id: str, since: datetime, until: datetime) -> Iterator[Order]:
    created = OrderItem.created_at.between(since, until - _INSTANT)
    return (order_from_item(item) for item in OrderItem.by_owner.query(owner_id, created))


def _merged_page(since: datetime, until: datetime, product, limit: int, cursor: str | None) -> Page:
    """Newest first across statuses. The cursor is the creation instant of the last order shown and the ids
    shown at that instant (two orders may share one): the next page reads at or before it, skipping those."""
    before, seen = _position(cursor, until - _INSTANT)
    if before < since:
        return Page([], None)
    candidates: list[OrderItem] = []
    more = False
    for status in OrderStatus:
        result = OrderItem.by_status.query(status.value, OrderItem.created_at.between(since, before),
                                           filter_condition=product, scan_index_forward=False,
                                           limit=limit + len(seen))
        candidates += [item for item in result if item.order_id not in seen]
        more = more or result.last_evaluated_key is not None
    candidates.sort(key=lambda item: (item.created_at, item.order_id), reverse=True)
    shown = candidates[:limit]
    if not shown or not (more or len(candidates) > limit):
        return Page([order_from_item(item) for item in shown], None)
    last = shown[-1].created_at
    at_last = [item.order_id for item in shown if item.created_at == last]
    if last == before:
        at_last += seen
    return Page([order_from_item(item) for item in shown],
                encode_cursor({"before": last.isoformat(), "seen": at_last}))


def _position(cursor: str | None, latest: datetime) -> tuple[datetime, list[str]]:
    position = decode_cursor(cursor)
    if position is None:
        return latest, []
    seen = position.get("seen")
    try:
        before = datetime.fromisoformat(position.get("before"))
    except (TypeError, ValueError):
        before = None
    if set(position) != {"before", "seen"} or before is None or before.tzinfo is None or not isinstance(seen, list) \
            or not 0 < len(seen) <= 1000 or not all(isinstance(order_id, str) and 0 < len(order_id) <= 64
                                                    for order_id in seen):
        raise ValidationFailed("cursor is not one this API returned", code="INVALID_CURSOR", field="cursor")
    return min(before, latest), seen


def _both(first, second):
    if first is None or second is None:
        return first if second is None else second
    return first & second
