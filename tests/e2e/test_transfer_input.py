"""Signed transfers are read canonically: one spelling per transaction, ASCII amounts, the token's own
decimals; whatever is recorded keeps its amount, and nothing waits for a confirmation forever."""
from __future__ import annotations

import json

import pytest

from tests.support import ADDRESSES, STRANGER_ADDRESS, build_transfer, new_order, outcome, sign, tx_id


def payment_count(aws) -> int:
    return aws["dynamodb"].scan(TableName="tgshop-test-payments", Select="COUNT")["Count"]


def to_review(aws) -> list[dict]:
    """What an operator sees: the review-received index, open items."""
    return aws["dynamodb"].query(TableName="tgshop-test-payments", IndexName="review-received",
                                 KeyConditionExpression="review_state = :open",
                                 ExpressionAttributeValues={":open": {"S": "OPEN"}})["Items"]


def order_status(api, order) -> str:
    response = api.client.http.get(f"/orders/{order['order_id']}", headers=api.buyer_headers())
    return json.loads(response.body)["status"]


def post_raw(api, raw: str):
    stamp = int(api.clock.now().timestamp())
    return api.client.http.post("/webhooks/payments/trc20", body=raw, headers={
        "Content-Type": "application/json", "X-Signature": sign("test-payment-secret", stamp, raw.encode())})


def test_a_recased_copy_of_a_paid_transaction_is_the_same_transaction(api, aws, container):
    order = new_order(api)
    tx = tx_id("recased")
    assert outcome(api.pay(order, tx=tx))["outcome"] == "MATCHED"

    again = outcome(api.pay(order, tx=tx.upper()))

    assert (again["outcome"], again["transaction_id"], again.get("replayed")) == ("MATCHED", tx, True)
    assert payment_count(aws) == 1


@pytest.mark.parametrize("transaction_id", [
    "tx-1", "ab" * 31 + "a", "ab" * 32 + "a", "0x" + "ab" * 32, "g" * 64, "ab" * 31 + "٣٤", " " + "ab" * 32])
def test_a_transaction_id_that_is_not_64_hex_is_refused_naming_it(api, aws, clock, transaction_id):
    body = build_transfer("15.001", ADDRESSES[0], transaction_id, mined_at=clock.now())
    response = post_raw(api, json.dumps(body))
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["error"]["field"] == "transaction_id"
    assert payment_count(aws) == 0


@pytest.mark.parametrize("value", ["١٥٠٠١٠٠٠", "１５００１０００", "15001000²", "+15001000", " 15001000"])
def test_an_amount_that_is_not_ascii_digits_is_refused(api, aws, clock, value):
    order = new_order(api)
    body = build_transfer(order["amount"], order["pay_to"], tx_id("digits"), mined_at=clock.now()) | {"value": value}
    response = post_raw(api, json.dumps(body))
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["error"]["field"] == "value"
    assert payment_count(aws) == 0
    assert order_status(api, order) == "PENDING"


@pytest.mark.parametrize("block_timestamp", [1_764_072_000, "1764072000000", 1.764072e12, True, -1])
def test_a_block_time_that_is_not_epoch_milliseconds_is_refused(api, aws, clock, block_timestamp):
    body = build_transfer("15.001", ADDRESSES[0], tx_id("ms"), mined_at=clock.now()) | \
        {"block_timestamp": block_timestamp}
    response = post_raw(api, json.dumps(body))
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["error"]["field"] == "block_timestamp"
    assert payment_count(aws) == 0


def test_usdt_claiming_other_decimals_is_rejected_recorded_and_pays_nothing(api, aws, container, clock):
    order = new_order(api)
    micros = int(float(order["amount"]) * 1_000_000 + 0.5)
    body = build_transfer(order["amount"], order["pay_to"], tx_id("eighteen"), mined_at=clock.now())
    body["token_info"]["decimals"] = 18
    body["value"] = str(micros * 10 ** 12)   # 15.001 "USDT" at 18 decimals

    result = outcome(api.pay(body=body))

    assert result["outcome"] == "REJECTED_TOKEN" and "decimals" in result["reason"]
    assert order_status(api, order) == "PENDING"
    stored = container.payments.get(result["transaction_id"])
    assert stored.amount_micros == micros * 10 ** 12   # read with USDT's own 6 decimals
    assert [item["transaction_id"]["S"] for item in to_review(aws)] == [result["transaction_id"]]


@pytest.mark.parametrize("changes,expected", [
    ({"token": STRANGER_ADDRESS}, "REJECTED_TOKEN"),
    ({"to": STRANGER_ADDRESS}, "REJECTED_ADDRESS"),
])
def test_rejected_transfers_keep_their_amount(api, container, changes, expected):
    order = new_order(api)
    result = outcome(api.pay(order, **changes))
    assert result["outcome"] == expected
    stored = container.payments.get(result["transaction_id"])
    assert stored.amount_micros == int(float(order["amount"]) * 1_000_000 + 0.5)


def test_an_unconfirmed_transfer_that_never_confirms_surfaces_for_review(api, aws, container, clock, calls):
    order = new_order(api)
    tx, mined = tx_id("never-confirmed"), clock.now()
    assert outcome(api.pay(order, tx=tx, confirmed=False))["outcome"] == "PENDING_CONFIRMATION"
    clock.advance(minutes=29)
    api.tick("repair_orders")
    assert to_review(aws) == []

    clock.advance(minutes=2)
    api.tick("expire_orders")
    api.tick("repair_orders")

    assert [item["transaction_id"]["S"] for item in to_review(aws)] == [tx]
    alerts = [call["params"]["text"] for call in calls("sendMessage") if call["params"]["chat_id"] == 999]
    assert any(tx in text and "confirm" in text for text in alerts)
    api.tick("repair_orders")   # surfaced once
    assert len([call for call in calls("sendMessage") if call["params"]["chat_id"] == 999]) == len(alerts)
    # A confirmation that does come, late, still pays by chain time and leaves the review list.
    confirmed = outcome(api.pay(order, tx=tx, mined_at=mined))
    assert confirmed["outcome"] == "LATE_MATCHED" and to_review(aws) == []
