"""Operators act from the panel: resolve a transfer in suspense, refund or retry an order, change a price,
adjust a wallet; each is audited with the operator's name and what changed, and bad input is a clear 4xx."""
from __future__ import annotations

import json
import re

import pytest

from chalicelib.domain.orders import FLAG_FOR_REVIEW, START_DELIVERY
from tests.e2e.panel_support import signed_in
from tests.support import ADDRESSES, new_order, outcome, status_of, tx_id


@pytest.fixture
def operator(container, client):
    return signed_in(container, client)


def _audit(container, action):
    day = container.clock.now().date().isoformat()
    return [entry for entry in container.distributors._audit.list_day(day, 200, None).items if entry.action == action]


def _needs_review(container, api):
    order = new_order(api)
    assert outcome(api.pay(order))["outcome"] == "MATCHED"
    stored = container.orders.get(order["order_id"])
    delivering = container.orders.apply(stored, START_DELIVERY, container.clock.now())
    container.orders.apply(delivering, FLAG_FOR_REVIEW, container.clock.now(), failure_reason="timeout")
    return order


def test_a_transfer_in_suspense_is_credited_to_the_buyers_wallet_once(container, api, operator, calls):
    tx = tx_id("stray")
    assert outcome(api.pay(amount="7.5", to=ADDRESSES[0], tx=tx))["outcome"] == "UNMATCHED"
    page = operator.get("/panel/payments")
    assert tx.encode() in page.body
    done = operator.post(f"/panel/payments/{tx}/credit", {"owner_id": "user:1001", "reason": "buyer wrote to us"})
    assert done.status_code == 303
    assert container.wallets.balance("user:1001").balance_micros == 7_500_000
    assert container.ledger.balance("suspense:USDT") == 0
    again = operator.post(f"/panel/payments/{tx}/credit", {"owner_id": "user:1001", "reason": "twice"})
    assert again.status_code == 409
    assert container.wallets.balance("user:1001").balance_micros == 7_500_000
    [entry] = _audit(container, "payment.credit")
    assert entry.actor == "operator:alice" and entry.details["after"]["review"] == "credit"
    assert tx.encode() not in operator.get("/panel/payments").body


def test_money_in_suspense_cannot_be_dismissed_and_a_bad_owner_is_named(container, api, operator):
    tx = tx_id("stray2")
    api.pay(amount="3", to=ADDRESSES[0], tx=tx)
    operator.get("/panel/payments")
    assert operator.post(f"/panel/payments/{tx}/dismiss", {"reason": "spam"}).status_code == 409
    bad = operator.post(f"/panel/payments/{tx}/credit", {"owner_id": "nobody", "reason": "x"})
    assert bad.status_code == 400 and b"owner_id" in bad.body
    returned = operator.post(f"/panel/payments/{tx}/returned", {"return_tx": "ab" * 32, "reason": "sent back"})
    assert returned.status_code == 303 and container.ledger.balance("suspense:USDT") == 0


def test_an_order_needing_review_is_refunded_to_the_wallet_with_its_entry(container, api, operator):
    order = _needs_review(container, api)
    page = operator.get(f"/panel/orders/{order['order_id']}")
    assert b"NEEDS_REVIEW" in page.body
    done = operator.post(f"/panel/orders/{order['order_id']}/refund", {"reason": "gift never arrived"})
    assert done.status_code == 303
    assert status_of(container, order) == "FAILED"
    assert container.wallets.balance("user:1001").balance_micros == container.orders.get(
        order["order_id"]).amount_micros
    assert container.ledger.entry(f"refund:{order['order_id']}") is not None
    [entry] = _audit(container, "order.refund")
    assert entry.details["before"]["status"] == "NEEDS_REVIEW" and entry.details["after"]["status"] == "FAILED"
    assert operator.post(f"/panel/orders/{order['order_id']}/refund", {"reason": "again"}).status_code == 409
    detail = operator.get(f"/panel/orders/{order['order_id']}")
    assert b"gift never arrived" in detail.body and b"refund:" in detail.body
    steps = [step["step"] for step in container.panel_reads.history(order["order_id"])]
    assert steps == ["mark_paid", "flag_for_review", "refund_to_wallet"]     # start_delivery is not kept
    assert b"flag_for_review" in detail.body and detail.body.count(b"message: refunded") == 1


def test_an_orders_history_shows_the_messages_told_about_it(container, api, operator):
    order = new_order(api)
    api.pay(order)
    before = operator.get(f"/panel/orders/{order['order_id']}").body
    api.drain("delivery", "deliver_orders")
    after = operator.get(f"/panel/orders/{order['order_id']}").body

    assert b"message: " not in before
    assert after.count(b"message: ") == 2 and after.index(b"message: paid") < after.index(b"message: delivered")


def test_money_credited_for_an_order_is_told_once_per_transfer_and_shown_in_its_history(container, api, operator,
                                                                                       calls):
    order = new_order(api)
    short, extra = tx_id("short"), tx_id("extra")
    assert outcome(api.pay(order, amount="14.001", tx=short))["reason"] == "UNDERPAID"
    assert outcome(api.pay(order, amount="14.001", tx=short))["reason"] == "UNDERPAID"    # the watcher posts again
    assert outcome(api.pay(order, amount="16.001", tx=extra))["reason"] == "OVERPAID"

    page = operator.get(f"/panel/orders/{order['order_id']}").body
    told = [call["params"]["text"] for call in calls("sendMessage") if call["params"]["chat_id"] == 1001]

    assert sum("14.001" in text for text in told) == 1
    assert page.count(f"message: underpaid ({short[:12]})".encode()) == 1
    assert page.count(f"message: overpaid ({extra[:12]})".encode()) == 1


def test_retry_queues_the_order_again_and_mark_delivered_needs_proof(container, api, operator, aws):
    order = _needs_review(container, api)
    operator.get(f"/panel/orders/{order['order_id']}")
    no_proof = operator.post(f"/panel/orders/{order['order_id']}/delivered", {"reason": "seen", "proof": " "})
    assert no_proof.status_code == 400 and b"proof" in no_proof.body
    assert operator.post(f"/panel/orders/{order['order_id']}/retry", {"reason": "try again"}).status_code == 303
    assert status_of(container, order) == "PAID"
    assert api.drain("delivery", "deliver_orders") >= 1
    assert status_of(container, order) == "DELIVERED"


def test_cancel_only_a_pending_order_and_no_reason_is_refused(container, api, operator):
    order = new_order(api)
    operator.get(f"/panel/orders/{order['order_id']}")
    assert operator.post(f"/panel/orders/{order['order_id']}/cancel", {"reason": ""}).status_code == 400
    assert operator.post(f"/panel/orders/{order['order_id']}/cancel", {"reason": "asked"}).status_code == 303
    assert status_of(container, order) == "CANCELLED"
    assert operator.post("/panel/orders/nosuchorder/cancel", {"reason": "x"}).status_code == 404


def _version(container, setting_id):
    return container.settings_store.versioned(setting_id)[1]


def test_a_price_change_is_validated_audited_and_quoted(container, client, operator):
    operator.get("/panel/settings")
    version = _version(container, "prices")
    assert operator.post("/panel/settings/prices", {"premium_3m": "-1", "version": version}).status_code == 400
    assert operator.post("/panel/settings/prices", {"premium_9m": "10", "version": version}).status_code == 400
    assert operator.post("/panel/settings/prices", {"premium_3m": "12.50", "version": version}).status_code == 303
    catalog = json.loads(client.http.get("/catalog").body)
    assert any(item["product_id"] == "premium_3m" and item["price"] == "12.50" for item in catalog["products"])
    [entry] = _audit(container, "settings.change")
    assert entry.details["before"]["premium_3m"] == "15" and entry.details["after"]["premium_3m"] == "12.50"
    broken = operator.post("/panel/settings/plans", {"plans": '{"p1": {"product_id": "nope"}}',
                                                     "version": _version(container, "plans")})
    assert broken.status_code == 400 and b"plans.p1" in broken.body


def test_a_change_made_from_a_stale_page_is_refused(container, operator):
    operator.get("/panel/settings")
    seen = _version(container, "wallet_top_up")
    assert operator.post("/panel/settings/limits", {"min": "2", "max": "100", "version": seen}).status_code == 303
    stale = operator.post("/panel/settings/limits", {"min": "3", "max": "100", "version": seen})
    assert stale.status_code == 409 and b"SETTING_CHANGED" in stale.body
    assert container.settings_store.get("wallet_top_up") == {"min": "2", "max": "100"}


def test_a_wallet_adjustment_is_a_ledger_entry_with_before_and_after(container, operator):
    page = operator.get("/panel/buyers?owner_id=1001")
    assert page.status_code == 200
    done = operator.post("/panel/buyers/user:1001/adjust", {"amount": "5.00", "reason": "goodwill",
                                                           "request_id": "adj1"})
    assert done.status_code == 303
    assert container.wallets.balance("user:1001").balance_micros == 5_000_000
    [entry] = _audit(container, "wallet.adjust")
    assert entry.details["before"] == {"balance_micros": 0} and entry.details["after"] == {"balance_micros": 5_000_000}
    assert operator.post("/panel/buyers/user:1001/adjust", {"amount": "abc", "reason": "x",
                                                           "request_id": "adj2"}).status_code == 400


def test_dashboard_orders_and_exports_render(container, api, operator):
    order = new_order(api)
    api.pay(order)
    container.wallets.adjust("user:77", 2_500_000, "seed", "seed1")
    dashboard = operator.get("/panel/dashboard").body
    assert b"sales-chart" in dashboard and b"2.50" in dashboard and b"1 wallet(s) with money" in dashboard
    assert re.search(rb"balance for gifts \xc2\xb7 0 paid in \xc2\xb7 \d+ spent on\s+\d+ gift\(s\) \xc2\xb7 0 refunded",
                     dashboard), "the Stars tile shows income, gift spending and refunds"
    listed = operator.get("/panel/orders?status=PAID")
    assert order["order_id"].encode() in listed.body
    assert operator.get("/panel/orders?status=NOPE").status_code == 400
    for name in ("orders", "payments", "ledger"):
        export = operator.get(f"/panel/exports/{name}.csv")
        assert export.status_code == 200 and export.body.count(b"\n") >= 2, name
    assert operator.get("/panel/exports/secrets.csv").status_code == 404
    for path in ("distributors", "operators", "reports", "buyers", "payments"):
        assert operator.get(f"/panel/{path}").status_code == 200, path


def test_a_stray_transfer_that_covers_an_order_is_attached_and_the_order_delivered(container, api, operator):
    order = new_order(api)
    small, big = tx_id("small"), tx_id("big")
    assert outcome(api.pay(amount="5", to=ADDRESSES[0], tx=small))["outcome"] == "UNMATCHED"
    assert outcome(api.pay(amount="20", to=ADDRESSES[0], tx=big))["outcome"] == "UNMATCHED"
    operator.get("/panel/payments")
    short = operator.post(f"/panel/payments/{small}/attach", {"order_id": order["order_id"], "reason": "wrong sum"})
    assert short.status_code == 409 and b"UNDERPAID" in short.body
    done = operator.post(f"/panel/payments/{big}/attach", {"order_id": order["order_id"], "reason": "buyer's tx"})
    assert done.status_code == 303
    stored = container.orders.get(order["order_id"])
    assert stored.status.value == "PAID" and stored.paid_micros == 20_000_000 and stored.payment_tx == big
    assert container.wallets.balance("user:1001").balance_micros == 20_000_000 - stored.amount_micros
    assert container.ledger.balance("suspense:USDT") == 5_000_000
    again = operator.post(f"/panel/payments/{small}/attach", {"order_id": order["order_id"], "reason": "again"})
    assert again.status_code == 409
    assert api.drain("delivery", "deliver_orders") == 1
    assert status_of(container, order) == "DELIVERED"
    assert _audit(container, "payment.attached")[0].details["after"]["order_status"] == "PAID"


def test_the_bots_menu_texts_are_changed_per_language_checked_and_previewed(container, operator):
    from chalicelib.domain.bot_texts import EDITABLE
    from chalicelib.i18n import catalog, text

    page = operator.get("/panel/settings?language=ru")
    assert page.status_code == 200 and b'id="text-preview"' in page.body
    form = {key: catalog("ru")[key] for key in EDITABLE}
    version = _version(container, "bot_texts")
    changed = {**form, "start.greeting": "Здравствуйте, <b>{name}</b>!", "language": "ru", "version": version}
    assert operator.post("/panel/settings/texts", changed).status_code == 303
    assert text("ru", "start.greeting", name="Ann") == "Здравствуйте, <b>Ann</b>!"
    assert text("en", "start.greeting", name="Ann") == catalog("en")["start.greeting"].format(name="Ann")
    assert b"Ann</b>!" not in operator.get("/panel/settings?language=ru").body     # the preview shows no tags
    version = _version(container, "bot_texts")
    for bad, field in (("Hi {price}", "ru.start.greeting"), ("Hi <a href='x'>{name}</a>", "ru.start.greeting"),
                       ("Hi <b>{name}", "ru.start.greeting")):
        refused = operator.post("/panel/settings/texts", {**changed, "start.greeting": bad, "version": version})
        assert refused.status_code == 400 and field.encode() in refused.body, bad
    unknown = operator.post("/panel/settings/texts", {**changed, "payment.secret": "x", "version": version})
    assert unknown.status_code == 400
    greeting = {"start.greeting": "Здравствуйте, <b>{name}</b>!"}
    assert _audit(container, "settings.change")[0].details["after"] == greeting
