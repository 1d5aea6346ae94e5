"""The TRON routes: a buyer's exchange quote, and the operators' JSON view of payouts and the hot wallet,
cancelling a payout only once its transaction provably died, and booking stock once per request id."""
from __future__ import annotations

import json

from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.payouts import hot_wallet
from devstack.tron_node.local import BUYER_ADDRESSES
from tests.support import outcome, tx_id

ADMIN = {"X-Api-Key": "test-admin-key", "Content-Type": "application/json"}


def admin_get(api, path: str):
    return api.client.http.get(path, headers=ADMIN)


def admin_post(api, path: str, body: dict):
    return api.client.http.post(path, headers=ADMIN, body=json.dumps(body))


def test_a_quote_prices_trx_with_the_spread_and_names_a_bad_amount(api, tron_node):
    answer = api.client.http.get("/tron/exchange/quote?trx_amount=100", headers=api.buyer_headers())
    assert answer.status_code == 200
    assert json.loads(answer.body) | {"note": ""} == {"trx": "100.000000", "usdt": "25.75", "rate": "0.250000",
                                                      "spread_percent": "3", "note": ""}
    both = api.client.http.get("/tron/exchange/quote?trx_amount=1&usdt_amount=1", headers=api.buyer_headers())
    assert both.status_code == 400
    assert api.client.http.get("/tron/exchange/quote?trx_amount=1").status_code == 401


def test_operators_see_the_hot_wallet_and_a_stuck_payout_and_cancel_it_only_once_it_died(api, container, tron_node,
                                                                                         clock):
    order = json.loads(api.create_order(product_id="trx_exchange", address=BUYER_ADDRESSES[0],
                                        trx_amount="10").body)
    outcome(api.pay(order, tx=tx_id("route-pay")))
    tron_node.inject("drop")
    api.drain("delivery", "deliver_orders")
    payout_id = f"order:{order['order_id']}"
    listed = json.loads(admin_get(api, "/admin/payouts").body)["payouts"]
    assert [payout["payout_id"] for payout in listed] == [payout_id]
    early = admin_post(api, f"/admin/payouts/{payout_id}/cancel", {"reason": "operator test"})
    assert early.status_code == 409 and json.loads(early.body)["error"]["code"] == "PAYOUT_MAY_STILL_LAND"
    clock.advance(minutes=10)
    cancelled = admin_post(api, f"/admin/payouts/{payout_id}/cancel", {"reason": "operator test"})
    assert cancelled.status_code == 200 and json.loads(cancelled.body)["state"] == "CANCELLED"
    assert container.orders.get(order["order_id"]).status == OrderStatus.NEEDS_REVIEW
    # The operator retries it from the panel: a payout of its own, paid once.
    from chalicelib.domain.distributors import AdminActor
    container.order_desk.retry_delivery(AdminActor("ops"), order["order_id"], "the first payout expired")
    api.drain("delivery", "deliver_orders")
    retried = container.orders.get(order["order_id"])
    assert retried.status == OrderStatus.DELIVERED and retried.details["payout_id"] == f"{payout_id}:2"
    assert [int(value["amount"]) for value in tron_node.landed_payouts(BUYER_ADDRESSES[0])] == [10_000_000]
    wallet = json.loads(admin_get(api, "/admin/tron/hot-wallet").body)
    # the cancelled claim gave its 10 TRX back to the day's ceiling: only the payout that landed counts
    assert wallet["trx_sun"] == 99_990 * 1_000_000 and wallet["paid_today"]["TRX"] == 10_000_000
    assert admin_get(api, "/admin/payouts/order:nothing").status_code == 404
    assert api.client.http.get("/admin/payouts").status_code == 401


def test_stock_is_booked_once_per_request_id(api, container, tron_node):
    body = {"asset": "TRX", "amount": "1000", "reason": "funded the hot wallet", "request_id": "stock-0001"}
    assert json.loads(admin_post(api, "/admin/tron/stock", body).body)["result"] == "APPLIED"
    assert json.loads(admin_post(api, "/admin/tron/stock", body).body)["result"] == "DUPLICATE"
    assert container.ledger.balance(hot_wallet()) == -1_000_000_000
    fractional = admin_post(api, "/admin/tron/stock", {**body, "asset": "ENERGY", "amount": "1.5",
                                                        "request_id": "stock-0002"})
    assert fractional.status_code == 400


def test_an_exchange_ordered_by_its_usdt_gets_the_quoted_trx_locked_on_the_order(api, container, tron_node):
    quote = json.loads(api.client.http.get("/tron/exchange/quote?usdt_amount=10",
                                           headers=api.buyer_headers()).body)
    response = api.create_order(product_id="trx_exchange", address=BUYER_ADDRESSES[0], usdt_amount="10")
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    assert (quote["trx"], order["trx"]) == ("38.834951", "38.834951") and order["amount"].startswith("10.00")
    container.settings_store.put("trx_exchange", {"rate": "0.5"})      # the rate moves after the quote
    container.live_settings.forget()
    outcome(api.pay(order, tx=tx_id("usdt-order")))
    api.drain("delivery", "deliver_orders")
    assert [int(v["amount"]) for v in tron_node.landed_payouts(BUYER_ADDRESSES[0])] == [38_834_951]
    both = api.create_order(product_id="trx_exchange", address=BUYER_ADDRESSES[0], usdt_amount="10", trx_amount="5")
    assert both.status_code == 400 and "exactly one" in json.loads(both.body)["error"]["message"]


def test_a_stage_without_tron_settings_answers_503_naming_what_is_missing(api, container, monkeypatch):
    for name in ("TRON_NODE_URL", "TRON_SHOP_ADDRESS", "TRON_PRIVATE_KEY", "TRON_PRIVATE_KEY_SSM_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    container.settings = container.settings.model_copy(update={"stage": "prod"})
    answer = admin_get(api, "/admin/tron/hot-wallet")
    error = json.loads(answer.body)["error"]
    assert answer.status_code == 503 and error["code"] == "TRON_NOT_CONFIGURED"
    assert "TRON_SHOP_ADDRESS is missing" in error["message"]
