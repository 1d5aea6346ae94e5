"""The wallet over HTTP: a buyer tops up by transfer, sees the balance and every entry, pays from balance;
a distributor does the same for code packs; an operator adjusts a wallet once per request id."""
from __future__ import annotations

import json
from decimal import Decimal

from tests.codes_support import codes  # noqa: F401 - the fixture
from tests.support import outcome

BUYER = 1001
ADMIN = {"X-Api-Key": "test-admin-key", "Content-Type": "application/json"}


def wallet(api, user_id=BUYER) -> dict:
    response = api.client.http.get("/wallet", headers=api.buyer_headers(user_id))
    assert response.status_code == 200, response.body
    return json.loads(response.body)["wallet"]


def history(api, user_id=BUYER, query="") -> dict:
    response = api.client.http.get(f"/wallet/history{query}", headers=api.buyer_headers(user_id))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def top_up(api, amount: str, user_id=BUYER) -> dict:
    response = api.create_order(user_id=user_id, product_id="wallet_top_up", amount=amount)
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    assert outcome(api.pay(order))["outcome"] == "MATCHED"
    api.drain("delivery", "deliver_orders")
    return order


def test_a_top_up_by_transfer_credits_everything_sent_and_the_history_says_what_for(api):
    assert wallet(api) == {"currency": "USDT", "balance": "0.00"}

    order = top_up(api, "20")

    assert order["kind"] == "WALLET_TOP_UP" and order["amount"].startswith("20.0")
    assert wallet(api)["balance"] == order["amount"].rstrip("0")
    [line] = history(api)["entries"]
    assert (line["purpose"], line["amount"], line["order_id"]) == ("payment", order["amount"].rstrip("0"),
                                                                  order["order_id"])


def test_paying_from_balance_settles_at_once_and_a_short_balance_is_refused_writing_nothing(api):
    top_up(api, "20")
    before = wallet(api)["balance"]
    api.clock.advance(seconds=1)

    paid = api.create_order(product_id="premium_3m", payment_method="balance")

    assert paid.status_code == 201, paid.body
    order = json.loads(paid.body)
    assert (order["status"], order["payment_method"], order["amount"]) == ("PAID", "balance", "15.000")
    assert Decimal(wallet(api)["balance"]) == Decimal(before) - 15
    short = api.create_order(product_id="premium_3m", payment_method="balance")
    assert short.status_code == 409, short.body
    error = json.loads(short.body)["error"]
    assert error["code"] == "INSUFFICIENT_BALANCE" and error["details"]["price"] == "15.00"
    orders = json.loads(api.client.http.get("/orders", headers=api.buyer_headers()).body)["orders"]
    assert [o["payment_method"] for o in orders].count("balance") == 1
    assert [line["purpose"] for line in history(api)["entries"]] == ["balance_payment", "payment"]


def test_a_top_up_cannot_be_paid_from_balance_and_bad_amounts_name_the_field(api):
    for body, status, code in (({"amount": "0.5"}, 400, "AMOUNT_OUT_OF_RANGE"),
                               ({"amount": "5000.01"}, 400, "AMOUNT_OUT_OF_RANGE"),
                               ({"amount": "1.001"}, 400, "VALIDATION_FAILED"),
                               ({"amount": "1e999999"}, 400, "VALIDATION_FAILED"),
                               ({"amount": "NaN"}, 400, "VALIDATION_FAILED"),
                               ({"amount": "10", "payment_method": "balance"}, 400, "PAYMENT_METHOD_NOT_ACCEPTED")):
        response = api.create_order(product_id="wallet_top_up", **body)
        assert response.status_code == status, (body, response.body)
        error = json.loads(response.body)["error"]
        assert error["code"] == code and error["field"] in ("amount", "payment_method"), (body, error)


def test_history_pages_with_a_cursor(api):
    for amount in ("1", "2", "3"):
        top_up(api, amount)

    first = history(api, query="?limit=2")
    second = history(api, query=f"?limit=2&cursor={first['cursor']}")

    assert len(first["entries"]) == 2 and len(second["entries"]) == 1 and second["cursor"] is None
    bad = api.client.http.get("/wallet/history?cursor=bm9wZQ", headers=api.buyer_headers())
    assert bad.status_code == 400 and json.loads(bad.body)["error"]["field"] == "cursor"


def test_an_operator_adjusts_a_wallet_once_per_request_and_never_below_zero(api):
    body = {"owner_id": f"user:{BUYER}", "amount": "7.50", "reason": "goodwill", "request_id": "adj-1"}
    first = api.client.http.post("/admin/wallet-adjustments", headers=ADMIN, body=json.dumps(body))
    again = api.client.http.post("/admin/wallet-adjustments", headers=ADMIN, body=json.dumps(body))

    assert json.loads(first.body)["result"] == "APPLIED" and json.loads(again.body)["result"] == "DUPLICATE"
    assert wallet(api)["balance"] == "7.50"
    overdraw = {**body, "amount": "-8", "request_id": "adj-2"}
    refused = api.client.http.post("/admin/wallet-adjustments", headers=ADMIN, body=json.dumps(overdraw))
    assert refused.status_code == 409 and json.loads(refused.body)["error"]["code"] == "INSUFFICIENT_BALANCE"
    assert wallet(api)["balance"] == "7.50"
    for bad in ({**body, "owner_id": "nobody"}, {**body, "amount": "1.234"}, {**body, "reason": ""}):
        response = api.client.http.post("/admin/wallet-adjustments", headers=ADMIN, body=json.dumps(bad))
        assert response.status_code == 400, response.body


def test_a_distributor_tops_up_and_pays_a_code_pack_from_balance(codes, api):
    distributor, token = codes.create_distributor()
    response = codes.post(token, "/distributors/me/wallet/top-ups", {"amount": "200"})
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    assert outcome(api.pay(order))["outcome"] == "MATCHED"

    balance = json.loads(codes.get(token, "/distributors/me/wallet").body)["wallet"]["balance"]
    api.clock.advance(seconds=1)
    paid = codes.post(token, "/distributors/me/orders", {"plan_id": "codes_3m_x10", "quantity": 1,
                                                         "payment_method": "balance"})

    assert paid.status_code == 201, paid.body
    pack = json.loads(paid.body)
    left = json.loads(codes.get(token, "/distributors/me/wallet").body)["wallet"]["balance"]
    assert pack["status"] == "PAID" and Decimal(balance) - Decimal(left) == Decimal(pack["amount"])
    lines = json.loads(codes.get(token, "/distributors/me/wallet/history").body)["entries"]
    assert [line["purpose"] for line in lines] == ["balance_payment", "payment"]
