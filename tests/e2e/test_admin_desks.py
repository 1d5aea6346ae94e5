"""The same manual steps for automation: JSON admin routes with X-Api-Key, every refusal a named 4xx and audited,
and two operators resolving one payment at the same time credit it once."""
from __future__ import annotations

import json
import threading

from chalicelib.domain.distributors import AdminActor
from tests.support import ADDRESSES, new_order, outcome, tx_id

KEY = {"X-Api-Key": "test-admin-key", "Content-Type": "application/json"}


def _post(client, path, body, headers=KEY):
    return client.http.post(path, headers=headers, body=json.dumps(body))


def test_a_pending_order_is_cancelled_by_automation_and_bad_bodies_are_named(container, api, client):
    order = new_order(api)
    path = f"/admin/orders/{order['order_id']}/actions"
    assert _post(client, path, {"action": "cancel", "reason": "x"}, {"Content-Type": "application/json"}
                 ).status_code == 401
    for body, field in (({"action": "explode", "reason": "x"}, "action"), ({"action": "cancel"}, "reason"),
                        ({"action": "mark_delivered", "reason": "x"}, "body"),
                        ({"action": "cancel", "reason": "x", "extra": 1}, "extra")):
        refused = _post(client, path, body)
        assert refused.status_code == 400, body
        assert json.loads(refused.body)["error"]["field"] == field, body
    done = _post(client, path, {"action": "cancel", "reason": "duplicate order"})
    assert done.status_code == 200 and json.loads(done.body)["status"] == "CANCELLED"
    assert _post(client, path, {"action": "cancel", "reason": "again"}).status_code == 409
    assert _post(client, "/admin/orders/missing/actions", {"action": "cancel", "reason": "x"}).status_code == 404
    day = container.clock.now().date().isoformat()
    outcomes = [entry.outcome for entry in container.distributors._audit.list_day(day, 100, None).items
                if entry.action == "order.action"]
    assert "VALIDATION_FAILED" in outcomes and "ORDER_STATE" in outcomes and "ORDER_NOT_FOUND" in outcomes


def test_the_review_queue_and_a_resolution_through_the_api(container, api, client):
    tx = tx_id("api-stray")
    api.pay(amount="4", to=ADDRESSES[0], tx=tx)
    queue = json.loads(client.http.get("/admin/payments/review", headers=KEY).body)
    assert [item["transaction_id"] for item in queue["payments"]] == [tx] and queue["payments"][0]["in_suspense"]
    missing = _post(client, f"/admin/payments/{tx}/resolution", {"how": "credit", "reason": "x"})
    assert missing.status_code == 400 and "owner_id" in json.loads(missing.body)["error"]["message"]
    done = _post(client, f"/admin/payments/{tx}/resolution", {"how": "credit", "reason": "x", "owner_id": "user:7"})
    assert done.status_code == 200 and json.loads(done.body)["entry_id"] == f"resolve:{tx}"
    assert container.wallets.balance("user:7").balance_micros == 4_000_000


def test_two_operators_resolving_one_transfer_at_once_credit_it_once(container, api):
    tx = tx_id("race")
    assert outcome(api.pay(amount="9", to=ADDRESSES[0], tx=tx))["outcome"] == "UNMATCHED"
    results, start = [], threading.Barrier(4)

    def resolve(owner):
        start.wait()
        try:
            container.payment_desk.credit_to_wallet(AdminActor(f"operator:{owner}"), tx, f"user:{owner}", "race")
            results.append(owner)
        except Exception as error:  # noqa: BLE001 - the losers' refusal is what the test counts
            results.append(type(error).__name__)

    threads = [threading.Thread(target=resolve, args=(owner,)) for owner in ("11", "12", "13", "14")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [result for result in results if result.isdigit()]
    assert len(winners) == 1 and sorted(set(results) - set(winners)) == ["Conflict"]
    balances = [container.wallets.balance(f"user:{owner}").balance_micros for owner in ("11", "12", "13", "14")]
    assert sorted(balances) == [0, 0, 0, 9_000_000]
    assert container.ledger.balance("suspense:USDT") == 0


def test_operators_refunding_one_order_at_once_refund_it_once(container, api):
    from tests.e2e.test_panel_desks import _needs_review

    order = _needs_review(container, api)
    results, start = [], threading.Barrier(3)

    def act(step):
        start.wait()
        try:
            step(AdminActor("operator:x"), order["order_id"], "race")
            results.append("ok")
        except Exception as error:  # noqa: BLE001
            results.append(type(error).__name__)

    threads = [threading.Thread(target=act, args=(container.order_desk.refund,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["Conflict", "Conflict", "ok"]
    stored = container.orders.get(order["order_id"])
    assert stored.status.value == "FAILED"
    assert container.wallets.balance("user:1001").balance_micros == stored.amount_micros
