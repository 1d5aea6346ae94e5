"""Buyers' HTTP API: catalog, creating, reading and cancelling orders."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest


def body(response) -> dict:
    return json.loads(response.body)


def test_catalog_lists_products_with_live_prices(api, container):
    products = body(api.client.http.get("/catalog"))["products"]
    assert [(p["product_id"], p["price"]) for p in products] == [
        ("premium_3m", "15.00"), ("premium_6m", "22.00"), ("premium_12m", "36.00"), ("wallet_top_up", "1.00"),
        ("trx_exchange", "0.26"), ("energy_65k_1h", "2.50"), ("energy_131k_1h", "4.50"), ("energy_65k_1d", "5.00"),
        ("energy_131k_1d", "9.00"), ("withdrawal", "6.00")]
    top_up = products[3]
    assert (top_up["min"], top_up["max"]) == ("1.00", "5000.00")   # a top-up is priced by the buyer
    container.settings_store.put("prices", {"premium_3m": "14.5", "premium_6m": "22", "premium_12m": "36"})
    container.live_settings.forget()
    assert body(api.client.http.get("/catalog"))["products"][0]["price"] == "14.50"


def test_an_order_has_a_unique_amount_and_the_documented_shape(api):
    first = body(api.create_order())
    assert set(first) >= {"order_id", "status", "product_id", "recipient_user_id", "amount", "currency",
                          "network", "pay_to", "created_at", "expires_at"}
    assert first["recipient_user_id"] == 1001 and first["currency"] == "USDT" and first["network"] == "TRC20"
    amount = Decimal(first["amount"])
    assert Decimal("15.001") <= amount <= Decimal("15.999") and amount.as_tuple().exponent == -3
    others = [body(api.create_order(user_id=2000 + n)) for n in range(20)]
    amounts = [(o["pay_to"], o["amount"]) for o in [first, *others]]
    assert len(set(amounts)) == len(amounts)


def test_missing_or_forged_init_data_is_refused_and_nothing_written(api, aws):
    response = api.client.http.post("/orders", body=json.dumps({"product_id": "premium_3m"}),
                                    headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    forged = api.buyer_headers()
    forged["X-Telegram-Init-Data"] = forged["X-Telegram-Init-Data"].replace("User1001", "Mallory")
    assert api.client.http.post("/orders", body=json.dumps({"product_id": "premium_3m"}),
                                headers=forged).status_code == 401
    assert aws["dynamodb"].scan(TableName="tgshop-test-orders", Select="COUNT")["Count"] == 0


@pytest.mark.parametrize("payload,status,field", [
    ({"product_id": "premium_99m"}, 404, "product_id"),
    ({"product_id": 3}, 400, "product_id"),
    ({}, 400, "product_id"),
    ({"product_id": "premium_3m", "recipient_user_id": "123"}, 400, "recipient_user_id"),
    ({"product_id": "premium_3m", "recipient_user_id": -5}, 400, "recipient_user_id"),
    ({"product_id": "premium_3m", "colour": "red"}, 400, "colour"),
])
def test_bad_order_bodies_name_the_field(api, aws, payload, status, field):
    response = api.client.http.post("/orders", body=json.dumps(payload), headers=api.buyer_headers())
    assert response.status_code == status, response.body
    error = body(response)["error"]
    assert error["field"] == field and error["code"] and error["request_id"]
    assert aws["dynamodb"].scan(TableName="tgshop-test-orders", Select="COUNT")["Count"] == 0


def test_malformed_json_is_a_400(api):
    response = api.client.http.post("/orders", body="{oops", headers=api.buyer_headers())
    assert response.status_code == 400 and body(response)["error"]["code"] == "MALFORMED_JSON"


def test_a_buyer_holds_at_most_three_pending_orders(api):
    for _ in range(3):
        assert api.create_order().status_code == 201
    refused = api.create_order()
    assert refused.status_code == 429 and body(refused)["error"]["code"] == "TOO_MANY_OPEN_ORDERS"
    assert refused.headers["Retry-After"]
    first = body(api.client.http.get("/orders", headers=api.buyer_headers()))["orders"][-1]
    api.client.http.post(f"/orders/{first['order_id']}/cancel", headers=api.buyer_headers())
    assert api.create_order().status_code == 201


def test_an_idempotency_key_returns_the_same_order(api):
    headers = api.buyer_headers(**{"Idempotency-Key": "k-1"})
    payload = json.dumps({"product_id": "premium_6m"})
    first = api.client.http.post("/orders", body=payload, headers=headers)
    again = api.client.http.post("/orders", body=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert body(first) == body(again)
    other = api.client.http.post("/orders", body=json.dumps({"product_id": "premium_3m"}), headers=headers)
    assert other.status_code == 422 and body(other)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    orders = body(api.client.http.get("/orders", headers=api.buyer_headers()))["orders"]
    assert len(orders) == 1


def test_no_free_payment_slot_is_a_503_with_a_retry_hint(api, container):
    from dataclasses import replace

    trc20 = container.payment_methods.get("trc20")
    trc20.policy = replace(trc20.policy, surcharge_cap_micros=9_000, max_pending=50)   # nine suffixes
    made = [api.create_order(user_id=5000 + n) for n in range(9)]
    assert all(response.status_code == 201 for response in made)
    refused = api.create_order(user_id=6000)
    assert refused.status_code == 503
    assert body(refused)["error"]["code"] == "NO_PAYMENT_SLOT" and refused.headers["Retry-After"]


def test_orders_are_listed_newest_first_with_a_cursor(api, clock):
    made = []
    for _ in range(3):
        order = body(api.create_order())
        api.client.http.post(f"/orders/{order['order_id']}/cancel", headers=api.buyer_headers())
        made.append(order["order_id"])
        clock.advance(seconds=1)
    first = body(api.client.http.get("/orders?limit=2", headers=api.buyer_headers()))
    assert [o["order_id"] for o in first["orders"]] == made[::-1][:2]
    rest = body(api.client.http.get(f"/orders?limit=2&cursor={first['cursor']}", headers=api.buyer_headers()))
    assert [o["order_id"] for o in rest["orders"]] == made[:1]
    assert api.client.http.get("/orders?cursor=%%%", headers=api.buyer_headers()).status_code == 400
    assert api.client.http.get("/orders?limit=0", headers=api.buyer_headers()).status_code == 400


def test_another_buyers_order_is_not_found(api):
    order = body(api.create_order())
    for method, path in (("get", f"/orders/{order['order_id']}"), ("post", f"/orders/{order['order_id']}/cancel")):
        response = getattr(api.client.http, method)(path, headers=api.buyer_headers(4242))
        assert response.status_code == 404


def test_only_pending_orders_can_be_cancelled(api):
    order = body(api.create_order())
    path = f"/orders/{order['order_id']}/cancel"
    assert body(api.client.http.post(path, headers=api.buyer_headers()))["status"] == "CANCELLED"
    again = api.client.http.post(path, headers=api.buyer_headers())
    assert again.status_code == 409 and body(again)["error"]["code"] == "ORDER_NOT_CANCELLABLE"
