"""Every answer of the signed TRC20 webhook, and that nothing is written when a request is refused."""
from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest

from tests.support import ADDRESSES, STRANGER_ADDRESS, build_transfer, new_order, outcome, tx_id


def order_status(api, order, user_id=1001) -> str:
    response = api.client.http.get(f"/orders/{order['order_id']}", headers=api.buyer_headers(user_id))
    return json.loads(response.body)["status"]


def payment_count(aws) -> int:
    return aws["dynamodb"].scan(TableName="tgshop-test-payments", Select="COUNT")["Count"]


def test_exact_amount_matches_and_enqueues_delivery(api, aws):
    order = new_order(api)
    result = outcome(api.pay(order))
    assert result == {"transaction_id": result["transaction_id"], "outcome": "MATCHED",
                      "order_id": order["order_id"]}
    assert order_status(api, order) == "PAID"
    queued = aws["sqs"].receive_message(QueueUrl=aws["queues"]["tgshop-test-delivery"])["Messages"]
    assert json.loads(queued[0]["Body"]) == {"order_id": order["order_id"], "kind": "PREMIUM_GIFT"}


def test_a_replay_answers_the_recorded_outcome_without_acting_again(api):
    order = new_order(api)
    first = outcome(api.pay(order, tx=tx_id("replay")))
    again = outcome(api.pay(order, tx=tx_id("replay")))
    assert first["outcome"] == again["outcome"] == "MATCHED"
    assert again["replayed"] is True


def wallet_of(container, user_id=1001) -> int:
    return container.wallets.balance(f"user:{user_id}").balance_micros


def test_a_second_transfer_for_a_paid_order_is_a_duplicate_kept_and_credited(api, aws, container):
    order = new_order(api)
    outcome(api.pay(order))
    second = outcome(api.pay(order))
    assert second["outcome"] == "DUPLICATE" and second["order_id"] == order["order_id"]
    assert payment_count(aws) == 2
    assert wallet_of(container) == 15_001_000


def test_underpaid_credits_overpaid_pays_and_an_unknown_amount_is_unmatched_each_with_a_reason(api, container):
    order = new_order(api)
    amount = Decimal(order["amount"])
    short = outcome(api.pay(order, amount=str(amount - 1)))
    assert (short["outcome"], short["reason"]) == ("CREDITED", "UNDERPAID")
    assert order_status(api, order) == "PENDING"
    stray = outcome(api.pay(order, amount="3.5"))
    assert (stray["outcome"], stray["reason"]) == ("UNMATCHED", "NO_ORDER")
    over = outcome(api.pay(order, amount=str(amount + 1)))
    assert (over["outcome"], over["reason"]) == ("MATCHED", "OVERPAID")
    assert order_status(api, order) == "PAID"
    assert wallet_of(container) == 14_001_000 + 1_000_000


def test_fake_usdt_and_foreign_addresses_are_rejected_but_stored(api, aws):
    order = new_order(api)
    fake = outcome(api.pay(order, token=STRANGER_ADDRESS))
    assert fake["outcome"] == "REJECTED_TOKEN"
    foreign = outcome(api.pay(order, to=STRANGER_ADDRESS))
    assert foreign["outcome"] == "REJECTED_ADDRESS"
    assert order_status(api, order) == "PENDING"
    assert payment_count(aws) == 2


def test_an_unconfirmed_transfer_waits_for_its_confirmed_delivery(api):
    order = new_order(api)
    pending = outcome(api.pay(order, tx=tx_id("conf"), confirmed=False))
    assert pending["outcome"] == "PENDING_CONFIRMATION"
    assert order_status(api, order) == "PENDING"
    assert outcome(api.pay(order, tx=tx_id("conf"), confirmed=False))["outcome"] == "PENDING_CONFIRMATION"
    confirmed = outcome(api.pay(order, tx=tx_id("conf"), confirmed=True))
    assert confirmed["outcome"] == "MATCHED"
    assert order_status(api, order) == "PAID"


def test_a_payment_after_expiry_inside_the_window_is_late_matched(api, clock):
    order = new_order(api)
    clock.advance(minutes=31)
    api.tick("expire_orders")
    assert order_status(api, order) == "EXPIRED"
    clock.advance(minutes=50)
    late = outcome(api.pay(order))
    assert late["outcome"] == "LATE_MATCHED"
    assert order_status(api, order) == "PAID_LATE"


def test_after_the_monitoring_window_the_amount_pays_nothing_and_is_credited_to_the_buyer(api, clock, container):
    order = new_order(api)
    clock.advance(minutes=31)
    api.tick("expire_orders")
    clock.advance(minutes=61)
    late = outcome(api.pay(order))
    assert (late["outcome"], late["reason"], late["order_id"]) == ("CREDITED", "TOO_LATE", order["order_id"])
    assert order_status(api, order) == "EXPIRED"
    assert wallet_of(container) == 15_001_000


def test_a_cancelled_order_paid_late_still_gets_its_gift(api):
    order = new_order(api)
    api.client.http.post(f"/orders/{order['order_id']}/cancel", headers=api.buyer_headers())
    assert outcome(api.pay(order))["outcome"] == "LATE_MATCHED"


def test_a_batch_answers_one_outcome_per_transfer(api):
    order = new_order(api)
    body = {"data": [build_transfer(order["amount"], order["pay_to"], tx_id("a")),
                     build_transfer("1", ADDRESSES[0], tx_id("b"))]}
    results = json.loads(api.pay(body=body).body)["results"]
    assert [r["outcome"] for r in results] == ["MATCHED", "UNMATCHED"]


@pytest.mark.parametrize("tamper", ["missing", "wrong", "stale", "unknown-secret"])
def test_bad_signatures_are_refused_and_nothing_is_written(api, aws, clock, tamper):
    order = new_order(api)
    body = build_transfer(order["amount"], order["pay_to"], tx_id("bad"))
    raw = json.dumps(body)
    headers = {"Content-Type": "application/json"}
    stamp = int(clock.now().timestamp())
    from tests.support import sign

    if tamper == "wrong":
        headers["X-Signature"] = sign("test-payment-secret", stamp, raw.encode() + b" ")
    elif tamper == "stale":
        headers["X-Signature"] = sign("test-payment-secret", stamp - 301, raw.encode())
    elif tamper == "unknown-secret":
        headers["X-Signature"] = sign("someone-else", stamp, raw.encode())
    response = api.client.http.post("/webhooks/payments/trc20", body=raw, headers=headers)
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"].startswith("SIGNATURE_")
    assert payment_count(aws) == 0
    assert order_status(api, order) == "PENDING"


def test_rotated_secrets_are_all_accepted(api, container):
    from chalicelib.config import load_settings
    from tests.support import TEST_ENV

    container.settings = load_settings({**TEST_ENV, "PAYMENT_WEBHOOK_SECRET": "new-secret,test-payment-secret"})
    order = new_order(api)
    assert outcome(api.pay(order, secret="test-payment-secret"))["outcome"] == "MATCHED"
    assert outcome(api.pay(new_order(api, user_id=7), secret="new-secret"))["outcome"] == "MATCHED"


@pytest.mark.parametrize("raw,field", [
    ("{not json", "body"),
    ('[1, 2]', "body"),
    ('{"data": []}', "data"),
    (json.dumps(build_transfer("1", ADDRESSES[0], tx_id("t1")) | {"value": 12}), "value"),
    (json.dumps(build_transfer("1", ADDRESSES[0], tx_id("t1")) | {"value": "-1"}), "value"),
    (json.dumps({"data": [build_transfer("1", ADDRESSES[0], tx_id("t1")) | {"confirmed": "maybe"}]}),
     "data[0].confirmed"),
    (json.dumps({k: v for k, v in build_transfer("1", ADDRESSES[0], tx_id("t1")).items() if k != "to"}), "to"),
])
def test_malformed_bodies_get_a_400_naming_the_field(api, aws, clock, raw, field):
    from tests.support import sign

    response = api.client.http.post("/webhooks/payments/trc20", body=raw, headers={
        "Content-Type": "application/json", "X-Signature": sign("test-payment-secret",
                                                                int(clock.now().timestamp()), raw.encode())})
    assert response.status_code == 400, response.body
    error = json.loads(response.body)["error"]
    assert error["field"] == field and error["request_id"]
    assert payment_count(aws) == 0


def test_a_one_megabyte_body_is_refused_with_413(api, aws):
    response = api.client.http.post("/webhooks/payments/trc20", body="x" * (1024 * 1024),
                                    headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert json.loads(response.body)["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert payment_count(aws) == 0


def test_the_same_transfer_from_twenty_threads_pays_once_and_gifts_once(api, container, calls):
    """Twenty concurrent deliveries of one transfer race through the payment service (what the webhook
    runs) against the emulator: one PAID write, and after the queue drains, one gift."""
    from chalicelib.domain.payment_methods.trc20_transfers import Transfer

    order = new_order(api)
    body = build_transfer(order["amount"], order["pay_to"], tx_id("race"))
    transfer = Transfer.model_validate(body)
    barrier = threading.Barrier(20)
    outcomes, errors = [], []

    def post():
        barrier.wait()
        try:
            outcomes.append(container.trc20_transfers.handle(transfer, body).outcome.value)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(outcomes) == {"MATCHED"}
    assert order_status(api, order) == "PAID"
    api.drain("delivery", "deliver_orders")
    assert len(calls("giftPremiumSubscription")) == 1
    assert order_status(api, order) == "DELIVERED"
