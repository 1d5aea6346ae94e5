"""The panel's lists read indexes, not tables: orders by status, buyer, product and day, paged with a cursor,
the wallets' total from their sparse index; every filter keeps working and no list scans a growing table."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from bench.dynamo_counter import DynamoCounter
from chalicelib.domain.orders import Order, OrderStatus
from tests.e2e.panel_support import signed_in

STATUSES = (OrderStatus.PENDING, OrderStatus.DELIVERED, OrderStatus.FAILED, OrderStatus.DELIVERED)
PRODUCTS = ("premium_3m", "premium_6m")


@pytest.fixture
def operator(container, client):
    return signed_in(container, client)


@pytest.fixture
def placed(container, clock):
    """Twelve orders over three days: four a day, two buyers, two products, three statuses."""
    orders = []
    for number in range(12):
        created = clock.now() - timedelta(days=2 - number // 4, hours=number % 4)
        order = Order(order_id=f"ord{number:02d}", kind="PREMIUM_GIFT", owner_id=f"user:{1001 + number % 2}",
                      status=STATUSES[number % 4], product_id=PRODUCTS[number % 3 == 0], amount_micros=15_000_000,
                      created_at=created, status_changed_at=created, buyer_user_id=1001 + number % 2, month_count=3)
        container.orders.create(order)
        orders.append(order)
    return orders


def newest_first(orders):
    return [order.order_id for order in sorted(orders, key=lambda order: order.created_at, reverse=True)]


def listed(container, clock, *, limit=5, **filters):
    since, until = clock.now() - timedelta(days=5), clock.now() + timedelta(minutes=1)
    shown, cursor, pages = [], None, 0
    while True:
        page = container.panel_reads.orders(since, until, limit=limit, cursor=cursor, **filters)
        shown += [order.order_id for order in page.items]
        pages += 1
        cursor = page.cursor
        if cursor is None:
            return shown, pages


def operations(counter: DynamoCounter) -> set[tuple[str, str]]:
    return {(operation, params.get("TableName", "").removeprefix("tgshop-test-")) for operation, params
            in counter.recorded}


def test_every_filter_pages_through_its_orders_newest_first_without_a_scan(container, clock, placed):
    with DynamoCounter(record=True) as counter:
        everything, pages = listed(container, clock)
        delivered, _ = listed(container, clock, status="DELIVERED", limit=2)
        of_product, _ = listed(container, clock, product_id="premium_6m", limit=2)
        of_buyer, _ = listed(container, clock, owner_id="user:1002", status="DELIVERED", limit=2)
        both, _ = listed(container, clock, status="DELIVERED", product_id="premium_6m", limit=1)

    assert everything == newest_first(placed) and pages == 3
    assert delivered == newest_first(o for o in placed if o.status == OrderStatus.DELIVERED)
    assert of_product == newest_first(o for o in placed if o.product_id == "premium_6m")
    assert of_buyer == newest_first(o for o in placed
                                    if o.owner_id == "user:1002" and o.status == OrderStatus.DELIVERED)
    assert both == newest_first(o for o in placed if o.status == OrderStatus.DELIVERED and o.product_id == "premium_6m")
    assert operations(counter) == {("Query", "orders")}


def test_orders_created_at_the_same_instant_are_each_listed_once_across_pages(container, clock):
    created = clock.now() - timedelta(hours=1)
    for number, status in enumerate((OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PENDING, OrderStatus.EXPIRED)):
        container.orders.create(Order(order_id=f"same{number}", kind="PREMIUM_GIFT", owner_id="user:1001",
                                      status=status, product_id="premium_3m", amount_micros=1, created_at=created,
                                      status_changed_at=created))

    shown, pages = listed(container, clock, limit=1)

    assert sorted(shown) == ["same0", "same1", "same2", "same3"] and pages == 4


def test_the_orders_page_filters_by_day_and_links_the_next_page(container, clock, operator, placed):
    yesterday = (clock.now() - timedelta(days=1)).date().isoformat()

    page = operator.get(f"/panel/orders?day_from={yesterday}&day_to={yesterday}&status=DELIVERED").body
    bad = operator.get("/panel/orders?cursor=bm90LWEtY3Vyc29y")

    expected = [o.order_id for o in placed if o.created_at.date().isoformat() == yesterday
                and o.status == OrderStatus.DELIVERED]
    assert expected and all(order_id.encode() in page for order_id in expected)
    assert sum(order_id.encode() in page for order_id in (o.order_id for o in placed)) == len(expected)
    assert b"Older orders" not in page
    assert bad.status_code == 400 and b"cursor" in bad.body
    backwards = operator.get(f"/panel/orders?day_from={yesterday}&day_to=2020-01-01")
    assert backwards.status_code == 200 and b"No orders match." in backwards.body


def test_a_long_list_links_older_orders_until_the_last(container, clock, operator, monkeypatch):
    import chalicelib.api.panel as panel

    monkeypatch.setattr(panel, "ORDERS_PAGE", 2)
    for number in range(3):
        created = clock.now() - timedelta(minutes=number + 1)
        container.orders.create(Order(order_id=f"page{number}", kind="PREMIUM_GIFT", owner_id="user:1001",
                                      status=OrderStatus.PENDING, product_id="premium_3m", amount_micros=1,
                                      created_at=created, status_changed_at=created))

    first = operator.get("/panel/orders?status=PENDING").body.decode()
    older = [part.split('"', 1)[0] for part in first.split('href="') if "cursor=" in part.split('"', 1)[0]]
    second = operator.get(older[0].replace("&amp;", "&")).body.decode()

    assert "page0" in first and "page1" in first and "page2" not in first
    assert "page2" in second and "page0" not in second and "Older orders" not in second
    assert "status=PENDING" in older[0]


def test_dashboard_and_export_read_the_range_through_the_index(container, clock, operator, placed):
    container.wallets.adjust("user:77", 2_500_000, "seed", "seed1")
    container.wallets.adjust("user:78", 1_000_000, "seed", "seed2")
    first = (clock.now() - timedelta(days=2)).date().isoformat()

    with DynamoCounter(record=True) as counter:
        dashboard = operator.get("/panel/dashboard").body
        export = operator.get(f"/panel/exports/orders.csv?day_from={first}&day_to={clock.now().date().isoformat()}")

    rows = list(csv.DictReader(io.StringIO(export.body.decode())))
    assert b"3.50" in dashboard and b"2 wallet(s) with money" in dashboard
    assert [row["order_id"] for row in rows] == list(reversed(newest_first(placed)))
    assert {table for operation, table in operations(counter) if operation == "Scan"} == set()


def test_wallets_from_before_the_index_are_counted_once_given_their_key(container, aws):
    from chalicelib.adapters.dynamodb.models import LedgerItem
    from devstack.backfill import index_wallets

    container.wallets.adjust("user:77", 2_500_000, "seed", "seed1")
    container.wallets.adjust("user:78", 1_000_000, "seed", "seed2")
    LedgerItem("acct#wallet:user:78:USDT", "balance").update(actions=[LedgerItem.wallet_shard.remove()])
    assert container.panel_reads.wallets_total() == (2_500_000, 1)

    given = index_wallets("tgshop-test", "us-east-1")

    assert given == 1 and container.panel_reads.wallets_total() == (3_500_000, 2)
    assert index_wallets("tgshop-test", "us-east-1") == 0
