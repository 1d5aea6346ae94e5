"""Odd payments land by rule and are heard: money that pays nothing (or more than the price) is credited to
the wallet of the buyer of the order it points at, who is told; a transfer that fits no order goes to suspense
and the operator is alerted (once per cooldown)."""
from __future__ import annotations

import json

from chalicelib.domain import ledger
from tests.support import ADDRESSES, outcome, tx_id

ADMIN_CHAT = 999
BUYER = 1001
OWNER = f"user:{BUYER}"
CLEARING = ledger.clearing(ADDRESSES[0], "USDT")


def new_order(api, user_id=BUYER, product_id="premium_3m") -> dict:
    response = api.create_order(user_id=user_id, product_id=product_id)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def texts_to(calls, chat_id) -> list[str]:
    return [call["params"]["text"] for call in calls("sendMessage") if call["params"]["chat_id"] == chat_id]


def wallet_of(container, owner_id=OWNER) -> int:
    return container.wallets.balance(owner_id).balance_micros


def lines_of(container, result) -> dict[str, int]:
    entry = container.ledger.entry(f"pay:{result['transaction_id']}")
    return {line.account: line.amount_micros for line in entry.lines}


def test_an_underpayment_is_credited_to_the_buyers_wallet_and_the_buyer_is_told(api, calls, container):
    order = new_order(api)

    result = outcome(api.pay(order, amount="14.001"))

    assert (result["outcome"], result["reason"], result["order_id"]) == ("CREDITED", "UNDERPAID", order["order_id"])
    assert container.orders.get(order["order_id"]).status.value == "PENDING"   # the exact amount still pays it
    assert wallet_of(container) == 14_001_000
    assert lines_of(container, result) == {CLEARING: -14_001_000, ledger.wallet(OWNER, "USDT"): 14_001_000}
    [told] = texts_to(calls, BUYER)
    assert order["order_id"] in told and "14.001" in told
    assert texts_to(calls, ADMIN_CHAT) == []    # nothing waits for an operator


def test_an_overpayment_pays_the_order_and_credits_the_excess_to_the_buyers_wallet(api, calls, container, aws):
    order = new_order(api)

    result = outcome(api.pay(order, amount="16.001"))

    assert (result["outcome"], result["reason"], result["order_id"]) == ("MATCHED", "OVERPAID", order["order_id"])
    paid = container.orders.get(order["order_id"])
    assert (paid.status.value, paid.paid_micros) == ("PAID", 16_001_000)
    queued = aws["sqs"].receive_message(QueueUrl=aws["queues"]["tgshop-test-delivery"])["Messages"]
    assert json.loads(queued[0]["Body"])["order_id"] == order["order_id"]
    assert wallet_of(container) == 1_000_000
    assert lines_of(container, result) == {CLEARING: -16_001_000, ledger.revenue("PREMIUM_GIFT", "USDT"): 15_001_000,
                                           ledger.wallet(OWNER, "USDT"): 1_000_000}
    assert len(texts_to(calls, BUYER)) == 1 and texts_to(calls, ADMIN_CHAT) == []


def test_a_second_payment_for_a_paid_order_is_credited_to_its_buyer_and_explained(api, calls, container):
    order = new_order(api)
    assert outcome(api.pay(order))["outcome"] == "MATCHED"
    assert texts_to(calls, BUYER) == []   # "paid" comes from the delivery worker

    second = outcome(api.pay(order))

    assert (second["outcome"], second["order_id"]) == ("DUPLICATE", order["order_id"])
    assert wallet_of(container) == 15_001_000
    assert container.ledger.balance(ledger.revenue("PREMIUM_GIFT", "USDT")) == 15_001_000   # paid once
    [told] = texts_to(calls, BUYER)
    assert "already paid" in told and order["order_id"] in told
    assert texts_to(calls, ADMIN_CHAT) == []


def test_an_amount_that_points_at_no_order_goes_to_suspense_and_alerts_only_the_operator(api, calls, container):
    order = new_order(api)

    result = outcome(api.pay(order, amount="3.5"))

    assert (result["outcome"], result["reason"]) == ("UNMATCHED", "NO_ORDER") and "order_id" not in result
    assert lines_of(container, result) == {CLEARING: -3_500_000, ledger.suspense("USDT"): 3_500_000}
    assert wallet_of(container) == 0 and texts_to(calls, BUYER) == []
    [alert] = texts_to(calls, ADMIN_CHAT)
    assert "NO_ORDER" in alert and "3.500" in alert and "suspense" in alert


def test_each_credit_reaches_the_buyer_but_the_operator_hears_of_suspense_once_per_cooldown(api, calls, clock,
                                                                                             container):
    order = new_order(api)
    outcome(api.pay(order, amount="14.001"))
    outcome(api.pay(order, amount="13.001"))
    outcome(api.pay(order, amount="3.5"))
    outcome(api.pay(order, amount="4.5"))
    assert len(texts_to(calls, BUYER)) == 2 and len(texts_to(calls, ADMIN_CHAT)) == 1
    clock.advance(minutes=11)
    outcome(api.pay(order, amount="12.001"))
    outcome(api.pay(order, amount="5.5"))
    assert len(texts_to(calls, BUYER)) == 3 and len(texts_to(calls, ADMIN_CHAT)) == 2
    assert wallet_of(container) == 14_001_000 + 13_001_000 + 12_001_000
    assert container.ledger.balance(ledger.suspense("USDT")) == 3_500_000 + 4_500_000 + 5_500_000


def test_a_replayed_odd_transfer_credits_once_and_tells_nobody_again(api, calls, clock, container):
    order = new_order(api)
    tx, mined = tx_id("short"), clock.now()
    outcome(api.pay(order, amount="14.001", tx=tx, mined_at=mined))
    clock.advance(minutes=11)
    again = outcome(api.pay(order, amount="14.001", tx=tx, mined_at=mined))
    assert (again["outcome"], again["replayed"]) == ("CREDITED", True)
    assert len(texts_to(calls, BUYER)) == 1 and texts_to(calls, ADMIN_CHAT) == []
    assert wallet_of(container) == 14_001_000


def test_a_transfer_mined_after_the_late_window_is_credited_to_the_buyer_of_the_order(api, calls, clock, container):
    order = new_order(api)
    clock.advance(minutes=31)
    api.tick("expire_orders")
    clock.advance(minutes=60)

    result = outcome(api.pay(order))

    assert (result["outcome"], result["reason"], result["order_id"]) == ("CREDITED", "TOO_LATE", order["order_id"])
    assert container.orders.get(order["order_id"]).status.value == "EXPIRED"
    assert wallet_of(container) == 15_001_000
    assert lines_of(container, result) == {CLEARING: -15_001_000, ledger.wallet(OWNER, "USDT"): 15_001_000}
    assert len(texts_to(calls, BUYER)) == 2       # the expiry, then the credit
    assert texts_to(calls, ADMIN_CHAT) == []


def test_the_expiry_notice_promises_a_match_only_for_the_exact_amount_sent_in_time(api, calls, clock):
    order = new_order(api)
    clock.advance(minutes=31)
    api.tick("expire_orders")
    [told] = texts_to(calls, BUYER)
    assert "for a while" not in told
    assert f"exactly {order['amount']} USDT" in told and "credited to your wallet" in told


def test_a_zero_value_transfer_is_recorded_unmatched_and_books_nothing(api, calls, container):
    """Address poisoning sends 0 USDT to busy addresses; the chain watcher must get a 200, not a retry loop."""
    new_order(api)

    result = outcome(api.pay(amount="0", to=ADDRESSES[0]))

    assert (result["outcome"], result["reason"]) == ("UNMATCHED", "NO_ORDER")
    assert container.ledger.entry(f"pay:{result['transaction_id']}") is None
    assert container.ledger.balance(CLEARING) == 0 and texts_to(calls, BUYER) == []
