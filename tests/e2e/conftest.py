"""Every end-to-end test that moved money leaves books that reconcile: after the test, each day it wrote
journal entries on is reconciled as an ended day and must show no difference. A test that damages the books
on purpose says so with `@pytest.mark.books_damaged`."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import PREFIX


@pytest.fixture(autouse=True)
def books_reconcile(request):
    if "container" not in request.fixturenames or request.node.get_closest_marker("books_damaged"):
        yield
        return
    # Asked for here, so that they are torn down after this check has run.
    container, clock, aws = (request.getfixturevalue(name) for name in ("container", "clock", "aws"))
    yield
    days = _days_with_entries(aws["dynamodb"])
    if not days:
        return
    from chalicelib.domain.reconciliation import midnight

    clock.current = max(clock.current, midnight(days[-1] + timedelta(days=1)) + timedelta(minutes=15))
    for day in days:
        report = container.reconciliation.reconcile(day)
        assert report.ok, f"the books of {day} do not reconcile: {[d.as_dict() for d in report.differences]}"


def _days_with_entries(dynamodb) -> list[date]:
    days: set[date] = set()
    for page in dynamodb.get_paginator("scan").paginate(TableName=f"{PREFIX}-ledger",
                                                        FilterExpression="attribute_exists(day_shard)",
                                                        ProjectionExpression="day_shard"):
        days.update(date.fromisoformat(item["day_shard"]["S"].split("#")[0]) for item in page["Items"])
    return sorted(days)
