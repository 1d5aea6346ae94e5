"""The hostile probe's findings, one by one: odd headers, cursors of the wrong shape and a foreign Content-Type
each get a 4xx in our envelope, naming what was wrong, and write nothing."""
from __future__ import annotations

import base64
import json

import pytest

from tests.codes_support import codes  # noqa: F401 - the fixture

def items(aws) -> dict[str, int]:
    """Item counts of every table the stack defines (infra/resources.yaml), by name."""
    tables = aws["dynamodb"].list_tables()["TableNames"]
    return {table: aws["dynamodb"].scan(TableName=table, Select="COUNT")["Count"] for table in tables}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.body
    error = json.loads(response.body)["error"]
    assert error["code"] and error["message"] and error["request_id"]
    return error


def cursor(document) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize("signature", [
    "t=" + "9" * 5000 + ",v1=" + "a" * 64,
    "t=²,v1=" + "a" * 64,
    "t={now},v1=" + "é" * 64,
    "t={now},v1=ñ",
])
def test_odd_signature_headers_are_a_401(api, aws, clock, signature):
    before = items(aws)
    response = api.client.http.post("/webhooks/payments/trc20", body="{}", headers={
        "Content-Type": "application/json", "X-Signature": signature.format(now=int(clock.now().timestamp()))})
    assert error_of(response, 401)["code"] == "SIGNATURE_INVALID"
    assert items(aws) == before


@pytest.mark.parametrize("init_data", ["auth_date=1&hash=é", "hash=" + "é" * 64, "user=1&hash=%F0%9F%92%A5"])
def test_a_non_ascii_init_data_hash_is_a_401(api, aws, init_data):
    before = items(aws)
    response = api.client.http.post("/orders", body=json.dumps({"product_id": "premium_3m"}),
                                    headers={"Content-Type": "application/json", "X-Telegram-Init-Data": init_data})
    assert error_of(response, 401)["code"] == "INIT_DATA_INVALID"
    assert items(aws) == before


WRONG_SHAPES = [
    {"a": 1},
    {"order_id": {"S": "x"}},
    {"order_id": {"S": ""}, "owner_id": {"S": "user:1001"}, "created_at": {"S": "x"}},
    {"order_id": {"N": "x"}, "owner_id": {"S": "user:1001"}, "created_at": {"S": "x"}},
    {"order_id": "x", "owner_id": "user:1001", "created_at": "x"},
    {"redemption_id": {"S": "x"}, "distributor_id": {"S": "x"}, "redeemed_at": {"SS": ["x"]}},
    {"day": {"S": "2026-11-25"}, "entry_id": {"M": {}}},
    {"p": 5},
    {"p": cursor({"a": 1})},
    {"s": -1},
]


@pytest.mark.parametrize("document", WRONG_SHAPES)
def test_a_cursor_of_the_wrong_shape_is_a_400_on_every_listing(api, codes, aws, document):  # noqa: F811
    api.create_order()
    distributor, token = codes.create_distributor("Kiosk")
    before = items(aws)
    listings = [("/orders", api.buyer_headers()),
                ("/distributors/me/orders", codes.headers(token)),
                ("/distributors/me/codes", codes.headers(token)),
                ("/distributors/me/redemptions", codes.headers(token))]
    for path, headers in listings:
        response = api.client.http.get(f"{path}?cursor={cursor(document)}", headers=headers)
        assert error_of(response, 400)["field"] == "cursor", path
    assert items(aws) == before
    audit = api.client.http.get(f"/admin/audit?cursor={cursor(document)}", headers=codes.admin_headers())
    assert error_of(audit, 400)["field"] == "cursor"


def test_a_cursor_cannot_page_through_another_owners_orders(api):
    api.create_order(user_id=2002)
    api.create_order(user_id=2002)
    theirs = json.loads(api.client.http.get("/orders?limit=1", headers=api.buyer_headers(2002)).body)["cursor"]
    response = api.client.http.get(f"/orders?cursor={theirs}", headers=api.buyer_headers(1001))
    assert error_of(response, 400)["field"] == "cursor"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
def test_a_foreign_content_type_is_a_415_in_our_envelope(api, aws, content_type):
    before = items(aws)
    headers = {**api.buyer_headers(), "Content-Type": content_type}
    response = api.client.http.post("/orders", body=json.dumps({"product_id": "premium_3m"}), headers=headers)
    error = error_of(response, 415)
    assert (error["code"], error["field"]) == ("UNSUPPORTED_MEDIA_TYPE", "Content-Type")
    assert response.headers["X-Request-Id"] == error["request_id"]
    assert items(aws) == before


@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8",
                                          "APPLICATION/JSON"])
def test_json_routes_still_take_json(api, content_type):
    headers = api.buyer_headers()
    headers.pop("Content-Type")
    if content_type:
        headers["Content-Type"] = content_type
    response = api.client.http.post("/orders", body=json.dumps({"product_id": "premium_3m"}), headers=headers)
    assert response.status_code == 201, response.body


@pytest.mark.parametrize("change,field", [
    ({"value": "²"}, "value"),                      # a digit to str.isdigit, not to int()
    ({"value": "٣٣"}, "value"),
    ({"block_timestamp": 10**40}, "block_timestamp"),  # more digits than a DynamoDB number holds
])
def test_a_transfer_with_a_malformed_number_is_a_400_and_not_recorded(api, aws, change, field):
    from tests.support import ADDRESSES, build_transfer, tx_id

    before = items(aws)
    response = api.pay(body={**build_transfer("15.123", ADDRESSES[0], tx_id("odd")), **change})
    assert error_of(response, 400)["field"] == field
    assert items(aws) == before
