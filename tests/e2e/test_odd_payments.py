"""Odd payments are heard: the buyer whose order a transfer points at is told what happened to the money,
the operator is alerted (once per cooldown), and no text promises what the shop will not do."""
from __future__ import annotations

import json

from tests.support import outcome, tx_id

ADMIN_CHAT = 999
BUYER = 1001


def new_order(api, user_id=BUYER, product_id="premium_3m") -> dict:
    response = api.create_order(user_id=user_id, product_id=product_id)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def texts_to(calls, chat_id) -> list[str]:
    return [call["params"]["text"] for call in calls("sendMessage") if call["params"]["chat_id"] == chat_id]


def test_an_underpaid_buyer_is_told_how_much_is_missing_and_the_operator_is_alerted(api, calls):
    order = new_order(api)

    result = outcome(api.pay(order, amount="14.001"))

    assert (result["outcome"], result["reason"], result["order_id"]) == ("UNMATCHED", "UNDERPAID", order["order_id"])
    [told] = texts_to(calls, BUYER)
    assert order["order_id"] in told and "14.001" in told and "1.000" in told and "15.001" in told
    assert "refund" not in told.replace("no automatic refund", "")   # nothing promised
    [alert] = texts_to(calls, ADMIN_CHAT)
    assert result["transaction_id"] in alert and order["order_id"] in alert and "UNDERPAID" in alert


def test_an_overpaid_buyer_is_told_the_money_waits_for_an_operator_without_an_automatic_refund(api, calls):
    order = new_order(api)

    result = outcome(api.pay(order, amount="16.001"))

    assert (result["reason"], result["order_id"]) == ("OVERPAID", order["order_id"])
    [told] = texts_to(calls, BUYER)
    assert "16.001" in told and "operator" in told and "no automatic refund" in told
    assert len(texts_to(calls, ADMIN_CHAT)) == 1


def test_a_second_payment_for_a_paid_order_is_explained_to_its_buyer(api, calls):
    order = new_order(api)
    assert outcome(api.pay(order))["outcome"] == "MATCHED"
    assert texts_to(calls, BUYER) == []   # "paid" comes from the delivery worker

    second = outcome(api.pay(order))

    assert second["outcome"] == "DUPLICATE"
    [told] = texts_to(calls, BUYER)
    assert "already paid" in told and "operator" in told and "no automatic refund" in told
    [alert] = texts_to(calls, ADMIN_CHAT)
    assert "DUPLICATE" in alert and second["transaction_id"] in alert


def test_an_amount_that_points_at_no_order_alerts_only_the_operator(api, calls):
    order = new_order(api)

    result = outcome(api.pay(order, amount="3.5"))

    assert (result["outcome"], result["reason"]) == ("UNMATCHED", "NO_ORDER") and "order_id" not in result
    assert texts_to(calls, BUYER) == []
    [alert] = texts_to(calls, ADMIN_CHAT)
    assert "NO_ORDER" in alert and "3.500" in alert


def test_each_odd_transfer_reaches_the_buyer_but_the_operator_hears_once_per_cooldown(api, calls, clock):
    order = new_order(api)
    outcome(api.pay(order, amount="14.001"))
    outcome(api.pay(order, amount="13.001"))
    assert len(texts_to(calls, BUYER)) == 2 and len(texts_to(calls, ADMIN_CHAT)) == 1
    clock.advance(minutes=11)
    outcome(api.pay(order, amount="12.001"))
    assert len(texts_to(calls, BUYER)) == 3 and len(texts_to(calls, ADMIN_CHAT)) == 2


def test_a_replayed_odd_transfer_tells_nobody_again(api, calls, clock):
    order = new_order(api)
    tx, mined = tx_id("short"), clock.now()
    outcome(api.pay(order, amount="14.001", tx=tx, mined_at=mined))
    clock.advance(minutes=11)
    again = outcome(api.pay(order, amount="14.001", tx=tx, mined_at=mined))
    assert again["replayed"] is True
    assert len(texts_to(calls, BUYER)) == 1 and len(texts_to(calls, ADMIN_CHAT)) == 1


def test_the_expiry_notice_promises_a_match_only_for_the_exact_amount_sent_in_time(api, calls, clock):
    order = new_order(api)
    clock.advance(minutes=31)
    api.tick("expire_orders")
    [told] = texts_to(calls, BUYER)
    assert "for a while" not in told
    assert f"exactly {order['amount']} USDT" in told and "credited to your wallet" in told
