"""Reconciliation end to end: a mixed day of money proves clean through the admin route, the daily schedule
reconciles yesterday, damage is reported and alerted, and a day is proved reading that day's entries only."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from bench.dynamo_counter import DynamoCounter
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.reconciliation import midnight
from tests.conftest import PREFIX
from tests.support import ADDRESSES, TEST_ENV, new_order, outcome

ADMIN = {"X-Api-Key": TEST_ENV["ADMIN_API_KEY"], "Content-Type": "application/json"}
ADMIN_CHAT = int(TEST_ENV["ADMIN_CHAT_ID"])


def plus(amount: str, delta: str) -> str:
    return str(Decimal(amount) + Decimal(delta))


def reconcile(api, day: str | None = None):
    body = None if day is None else json.dumps({"day": day})
    return api.client.http.post("/admin/reconciliation", headers=ADMIN, body=body)


def fail_delivery(api, sandbox, order: dict) -> None:
    """The gift is refused for good: the order FAILS and its payment is refunded to the buyer's wallet."""
    from devstack.sandbox import FaultRule

    from tests.conftest import sqs_event

    sandbox.extensions["sandbox"].add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                                      description="Bad Request: user not found", times=1))
    message = {"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": json.dumps({"order_id": order["order_id"]})}
    api.client.lambda_.invoke("deliver_orders", sqs_event([message]))


def a_mixed_day(api, container, sandbox) -> dict[str, dict]:
    exact, over, under = new_order(api, 1001), new_order(api, 1002), new_order(api, 1003)
    assert outcome(api.pay(exact))["outcome"] == "MATCHED"
    assert outcome(api.pay(over, amount=plus(over["amount"], "20")))["reason"] == "OVERPAID"
    assert outcome(api.pay(under, amount=plus(under["amount"], "-5")))["outcome"] == "CREDITED"
    assert outcome(api.pay(amount="7", to=ADDRESSES[0]))["outcome"] == "UNMATCHED"
    from_wallet = api.create_order(user_id=1002, payment_method="balance")   # the overpayment pays for it
    assert from_wallet.status_code == 201, from_wallet.body
    fail_delivery(api, sandbox, exact)
    assert container.orders.get(exact["order_id"]).status == OrderStatus.FAILED
    return {"exact": exact, "over": over, "under": under, "from_wallet": json.loads(from_wallet.body)}


def alerts(calls) -> list[str]:
    return [call["params"]["text"] for call in calls("sendMessage") if call["params"]["chat_id"] == ADMIN_CHAT]


def test_a_mixed_day_reconciles_with_no_difference_and_the_report_is_kept(api, container, sandbox, clock, calls):
    a_mixed_day(api, container, sandbox)
    clock.advance(minutes=1)         # past the day index's lag

    response = reconcile(api)

    assert response.status_code == 200, response.body
    report = json.loads(response.body)
    assert report["ok"] is True and report["differences"] == [] and report["complete"] is False
    assert report["day"] == clock.now().date().isoformat()
    assert report["counts"] == {"entries": 6, "payments": 4, "accounts": 7, "orders": 3, "payouts": 0}
    assert report["totals"]["USDT"]["entries"] == 6
    stored = api.client.http.get(f"/admin/reconciliation/{report['day']}", headers=ADMIN)
    assert stored.status_code == 200 and json.loads(stored.body) == report
    assert not any("Reconciliation" in text for text in alerts(calls))


def test_the_daily_schedule_reconciles_yesterday_once_it_has_ended(api, container, sandbox, clock):
    a_mixed_day(api, container, sandbox)
    day = clock.now().date()
    clock.current = midnight(day + timedelta(days=1)) + timedelta(minutes=15)

    summary = api.tick("reconcile_ledger")

    assert summary["days"][-1] == day.isoformat() and summary["differences"] == 0
    stored = json.loads(api.client.http.get(f"/admin/reconciliation/{day}", headers=ADMIN).body)
    assert stored["complete"] is True and stored["ok"] is True and stored["counts"]["entries"] == 6
    assert api.tick("reconcile_ledger")["days"] == []     # nothing left to reconcile until tomorrow ends


@pytest.mark.books_damaged
def test_a_damaged_balance_is_reported_and_alerted(api, container, sandbox, clock, calls, aws):
    a_mixed_day(api, container, sandbox)
    revenue = "revenue:PREMIUM_GIFT:USDT"
    aws["dynamodb"].update_item(TableName=f"{PREFIX}-ledger", Key={"pk": {"S": f"acct#{revenue}"},
                                                                   "sk": {"S": "balance#0"}},
                                UpdateExpression="ADD balance :one, version :one",
                                ExpressionAttributeValues={":one": {"N": "1"}})
    clock.advance(minutes=1)

    report = json.loads(reconcile(api).body)

    assert report["ok"] is False
    assert [(d["kind"], d["account"]) for d in report["differences"]] == [("balance", revenue)]
    assert report["differences"][0]["actual"] == report["differences"][0]["expected"] + 1
    assert any("Reconciliation of" in text and revenue in text for text in alerts(calls))


def test_bad_days_are_refused_naming_the_field_and_unknown_reports_are_not_found(api, clock):
    tomorrow = (clock.now().date() + timedelta(days=1)).isoformat()
    for body in ({"day": "2026-13-01"}, {"day": tomorrow}, {"day": 20261125}, {"when": "today"}):
        refused = api.client.http.post("/admin/reconciliation", headers=ADMIN, body=json.dumps(body))
        assert refused.status_code == 400, body
        assert json.loads(refused.body)["error"]["field"] in ("day", "when"), refused.body
    bad = api.client.http.get("/admin/reconciliation/2026-02-30", headers=ADMIN)
    assert bad.status_code == 400 and json.loads(bad.body)["error"]["field"] == "day"
    missing = api.client.http.get("/admin/reconciliation/2020-01-01", headers=ADMIN)
    assert missing.status_code == 404 and json.loads(missing.body)["error"]["code"] == "REPORT_NOT_FOUND"
    anonymous = api.client.http.post("/admin/reconciliation", headers={"Content-Type": "application/json"})
    assert anonymous.status_code == 401


def test_a_day_is_proved_reading_only_its_own_entries(api, container, clock):
    for user in range(2001, 2007):              # a busy first day ...
        assert outcome(api.pay(new_order(api, user)))["outcome"] == "MATCHED"
    first = clock.now().date()
    clock.current = midnight(first + timedelta(days=1)) + timedelta(hours=9)
    assert container.reconciliation.reconcile(first).ok
    for user in (2101, 2102):                   # ... and a quiet second one
        assert outcome(api.pay(new_order(api, user)))["outcome"] == "MATCHED"
    second = clock.now().date()
    clock.current = midnight(second + timedelta(days=1)) + timedelta(minutes=15)

    with DynamoCounter(record=True) as counter:
        report = container.reconciliation.reconcile(second)

    assert report.ok and report.counts["entries"] == 2
    queries = [params for operation, params in counter.recorded if operation == "Query"]
    by_day = [_strings(params) for params in queries if params.get("IndexName") in ("entry-day", "payment-day")]
    assert len(by_day) == 16 and all(value.startswith(f"{second}#") for values in by_day for value in values)
    payouts = [(params.get("IndexName"), _strings(params)) for params in queries
               if params["TableName"] == f"{PREFIX}-payouts"]
    assert payouts == [("payout-day", [second.isoformat()])]       # one more Query: the day's settled payouts
    line_bounds = [value for params in queries if params["TableName"] == f"{PREFIX}-ledger"
                   for value in _strings(params) if value.startswith("line#")]
    assert line_bounds and all(value >= f"line#{second}" for value in line_bounds)
    assert not any(operation in ("Scan", "GetItem") for operation, _ in counter.recorded)


def _strings(params: dict) -> list[str]:
    return [value["S"] for value in params.get("ExpressionAttributeValues", {}).values() if "S" in value]
