"""The sharded `open-due` index: orders spread over its shards, and the jobs read every shard."""
from __future__ import annotations

import json
from collections import Counter

from bench.dynamo_counter import DynamoCounter
from chalicelib.adapters.dynamodb.models import OrderItem
from chalicelib.adapters.dynamodb.open_due import OPEN_DUE_SHARDS, open_due_key, query_due, shard_keys
from chalicelib.domain.orders import OrderStatus


def test_order_ids_spread_evenly_over_the_shards():
    ids = [f"01JD{n:022d}" for n in range(8000)]
    per_shard = Counter(open_due_key(OrderStatus.PENDING, order_id) for order_id in ids)
    assert set(per_shard) == set(shard_keys(OrderStatus.PENDING))
    assert max(per_shard.values()) < 1.2 * len(ids) / OPEN_DUE_SHARDS


def test_expiry_finds_due_orders_in_every_shard_with_one_query_per_shard(api, container, clock):
    orders = [json.loads(api.create_order(user_id=400 + n).body) for n in range(40)]
    keys = {OrderItem.get(order["order_id"]).open_status for order in orders}
    assert len(keys) >= 6  # 40 orders over 8 shards: the index keys differ
    clock.advance(minutes=31)
    with DynamoCounter() as counter:
        report = api.tick("expire_orders")
    assert report["examined"] == 40 and report["changed"] == 40
    assert counter.calls["Query"] == OPEN_DUE_SHARDS
    assert {container.orders.get(order["order_id"]).status for order in orders} == {OrderStatus.EXPIRED}
    with DynamoCounter() as counter:
        assert api.tick("expire_orders")["examined"] == 0
    assert counter.total_calls == OPEN_DUE_SHARDS


def test_a_page_continues_across_shards_and_misses_nothing(api, clock):
    created = {json.loads(api.create_order(user_id=500 + n).body)["order_id"] for n in range(30)}
    clock.advance(minutes=31)
    seen, cursor, pages = [], None, 0
    while True:
        items, cursor = query_due(OrderStatus.PENDING, clock.now(), 7, cursor)
        seen += [item.order_id for item in items]
        pages += 1
        if cursor is None:
            break
    assert sorted(seen) == sorted(created) and pages >= 5


def test_an_order_written_before_sharding_is_still_found(api, container, clock):
    order = json.loads(api.create_order(user_id=600).body)
    item = OrderItem.get(order["order_id"])
    item.update(actions=[OrderItem.open_status.set("PENDING")])  # the unsharded key of older items: shard 0
    clock.advance(minutes=31)
    assert api.tick("expire_orders")["changed"] == 1
    assert container.orders.get(order["order_id"]).status == OrderStatus.EXPIRED
