"""Chain time decides what a transfer pays: its block time must fall inside the window of the order that
held its amount at that moment, whenever the chain watcher gets round to posting it."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain import ledger
from tests.support import build_transfer, new_order, outcome, status_of, tx_id


def expire_and_outlive_the_late_window(api, clock):
    clock.advance(minutes=31)
    api.tick("expire_orders")
    clock.advance(minutes=59, seconds=1)   # 90 min + 1 s after creation: the amount is free again


def test_a_transfer_mined_before_the_order_existed_does_not_pay_it(api, clock, container):
    clock.advance(minutes=5)
    order = new_order(api)

    result = outcome(api.pay(order, mined_at=clock.now() - timedelta(minutes=2)))

    assert (result["outcome"], result["reason"]) == ("UNMATCHED", "NO_ORDER")
    assert status_of(container, order) == "PENDING"
    assert container.payments.get(result["transaction_id"]).amount_micros is not None
    assert container.ledger.balance(ledger.suspense("USDT")) == 15_001_000   # no earlier holder: nobody's money


def test_an_on_time_transfer_posted_after_the_late_window_still_pays_its_order(api, clock, container):
    order = new_order(api)
    mined = clock.now() + timedelta(minutes=10)
    clock.advance(minutes=31)
    api.tick("expire_orders")
    clock.advance(hours=3)   # the watcher was down: the transfer arrives long after the window closed

    result = outcome(api.pay(order, mined_at=mined))

    assert (result["outcome"], result["order_id"]) == ("LATE_MATCHED", order["order_id"])
    assert status_of(container, order) == "PAID_LATE"


def test_a_late_posted_transfer_pays_the_order_it_was_mined_for_not_the_new_holder_of_its_amount(
        api, clock, container):
    first = new_order(api, user_id=1)
    mined = clock.now() + timedelta(minutes=12)
    expire_and_outlive_the_late_window(api, clock)
    second = new_order(api, user_id=2)
    assert (second["pay_to"], second["amount"]) == (first["pay_to"], first["amount"])  # the freed amount

    late = outcome(api.pay(first, mined_at=mined))

    assert (late["outcome"], late["order_id"]) == ("LATE_MATCHED", first["order_id"])
    assert status_of(container, first) == "PAID_LATE" and status_of(container, second) == "PENDING"
    own = outcome(api.pay(second))
    assert (own["outcome"], own["order_id"]) == ("MATCHED", second["order_id"])


def test_a_transfer_mined_between_two_holders_windows_pays_neither_and_is_the_earlier_buyers_money(
        api, clock, container):
    first = new_order(api, user_id=1)
    expire_and_outlive_the_late_window(api, clock)
    mined = clock.now()
    clock.advance(minutes=1)
    second = new_order(api, user_id=2)

    result = outcome(api.pay(second, mined_at=mined))

    assert (result["outcome"], result["reason"], result["order_id"]) == ("CREDITED", "TOO_LATE", first["order_id"])
    assert status_of(container, first) == "EXPIRED" and status_of(container, second) == "PENDING"
    assert container.wallets.balance("user:1").balance_micros == 15_001_000
    assert container.wallets.balance("user:2").balance_micros == 0


def test_an_amount_stays_with_its_order_until_the_late_window_closes(api, clock):
    first = new_order(api, user_id=1)
    clock.advance(minutes=89)
    assert new_order(api, user_id=2)["amount"] != first["amount"]
    clock.advance(minutes=1, seconds=1)
    assert new_order(api, user_id=3)["amount"] == first["amount"]


def test_a_transfer_without_a_block_time_waits_and_pays_once_its_block_time_arrives(api, clock, container):
    order = new_order(api)
    body = build_transfer(order["amount"], order["pay_to"], tx_id("unmined"), mined_at=clock.now())
    mined = body.pop("block_timestamp")

    waiting = outcome(api.pay(body=body))

    assert waiting["outcome"] == "PENDING_CONFIRMATION" and status_of(container, order) == "PENDING"
    paid = outcome(api.pay(body={**body, "block_timestamp": mined}))
    assert (paid["outcome"], paid["order_id"]) == ("MATCHED", order["order_id"])
