"""Exactly-once TRX payouts, end to end: the real app on emulated AWS pays TRX exchange orders out through
the fake TRON node over its HTTP API. Crashes after signing, after broadcasting and after landing, five
redeliveries, two workers at once, broadcast timeouts that did and did not land and a transaction that
expired unlanded: each ends with one transfer on chain, one journal entry and a DELIVERED order. The day's
reconciliation proves the payouts table against those entries, and reports a payout that disagrees."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.payouts import hot_wallet, payouts_account
from devstack.tron_node.local import BUYER_ADDRESSES
from chalicelib.domain.reconciliation import midnight
from tests.conftest import PREFIX
from tests.support import outcome, tx_id

BUYER = 1001
TO = BUYER_ADDRESSES[0]


class Crash(BaseException):
    """The worker dies here: nothing after this point runs (BaseException: no domain code catches it)."""


class CrashingChain:
    """The real adapter, with a crash armed after one of its calls (the call itself has happened)."""

    def __init__(self, real) -> None:
        self._real = real
        self.crash_after: str | None = None

    def __getattr__(self, name):
        attribute = getattr(self._real, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            result = attribute(*args, **kwargs)
            if self.crash_after == name and (name != "lookup" or result is not None):
                self.crash_after = None
                raise Crash(name)
            return result
        return call


def exchange_order(api, trx: str = "40", user_id: int = BUYER) -> dict:
    response = api.create_order(user_id=user_id, product_id="trx_exchange", address=TO, trx_amount=trx)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def paid_exchange(api, trx: str = "40") -> dict:
    order = exchange_order(api, trx)
    outcome(api.pay(order, tx=tx_id(f"pay-{order['order_id']}")))
    return order


def deliver(api, order: dict, times: int = 1, prefix: str = "m") -> list[dict]:
    from tests.conftest import sqs_event
    return [api.client.lambda_.invoke("deliver_orders", sqs_event([{
        "MessageId": f"{prefix}-{index}", "ReceiptHandle": f"r-{index}",
        "Body": json.dumps({"order_id": order["order_id"], "kind": order["kind"]})}])).payload
        for index in range(times)]


def transfers_to(node, address: str = TO) -> list[dict]:
    return [value for value in node.landed_payouts(address) if value["type"] == "TransferContract"]


def payout_entries(container, order: dict) -> list:
    entry = container.ledger.entry(f"payout:order:{order['order_id']}")
    return [] if entry is None else [entry]


def assert_paid_once(container, node, order: dict, sun: int = 40_000_000) -> None:
    transfers = transfers_to(node)
    assert [int(value["amount"]) for value in transfers] == [sun]
    stored = container.orders.get(order["order_id"])
    assert stored.status == OrderStatus.DELIVERED
    payout = container.payouts.get(f"order:{order['order_id']}")
    assert stored.details["payout_tx"] == payout.tx_id and payout.tx_id in node.landed
    entries = payout_entries(container, order)
    assert len(entries) == 1
    assert {line.account: line.amount_micros for line in entries[0].lines} == {
        hot_wallet(): sun, payouts_account("TRX_EXCHANGE"): -sun}


@pytest.fixture
def chain(container, tron_node):
    crashing = CrashingChain(container.tron)
    container.__dict__["tron"] = crashing      # before the payout service is built on it
    return crashing


def test_a_paid_exchange_order_is_paid_out_once_with_its_journal_entry(api, container, tron_node):
    order = paid_exchange(api)
    api.drain("delivery", "deliver_orders")
    assert_paid_once(container, tron_node, order)
    assert len(tron_node.broadcasts_of()) == 1


def test_five_redeliveries_pay_once(api, container, tron_node):
    order = paid_exchange(api)
    api.drain("delivery", "deliver_orders")
    deliver(api, order, times=5)
    assert_paid_once(container, tron_node, order)
    assert len(tron_node.broadcasts_of()) == 1


@pytest.mark.parametrize("crash_after", ["sign", "broadcast", "lookup"])
def test_a_worker_that_dies_mid_payout_is_finished_by_the_next_delivery(api, container, tron_node, chain,
                                                                        crash_after):
    order = paid_exchange(api)
    chain.crash_after = crash_after
    with pytest.raises(Crash):
        api.drain("delivery", "deliver_orders")
    deliver(api, order, times=2)
    assert_paid_once(container, tron_node, order)
    # the transaction that was broadcast before the crash is the one that landed: never a second one
    assert len({tx for tx, _ in tron_node.broadcasts_of()}) == 1


def test_a_crash_after_signing_and_claiming_rebroadcasts_the_stored_transaction(api, container, tron_node, chain):
    order = paid_exchange(api)
    store = container.payout_store
    real_claim = store.claim

    def claim_then_die(*args, **kwargs):
        real_claim(*args, **kwargs)
        raise Crash("claimed")
    container.payout_store.claim = claim_then_die
    with pytest.raises(Crash):
        api.drain("delivery", "deliver_orders")
    del container.payout_store.claim
    stored = container.payouts.get(f"order:{order['order_id']}")
    assert tron_node.broadcasts_of() == []
    deliver(api, order)
    assert_paid_once(container, tron_node, order)
    assert [tx for tx, _ in tron_node.broadcasts_of()] == [stored.tx_id]


def test_a_broadcast_timeout_after_the_node_took_it_pays_once(api, container, tron_node):
    order = paid_exchange(api)
    tron_node.inject("timeout_after_accept")
    api.drain("delivery", "deliver_orders")
    deliver(api, order, times=2)
    assert_paid_once(container, tron_node, order)
    assert len(tron_node.broadcasts_of()) == 1


def test_a_broadcast_timeout_before_the_node_took_it_sends_the_same_transaction_again(api, container, tron_node,
                                                                                       clock):
    order = paid_exchange(api)
    tron_node.inject("timeout_before_accept")
    api.drain("delivery", "deliver_orders")
    assert container.orders.get(order["order_id"]).status == OrderStatus.DELIVERING
    assert transfers_to(tron_node) == []
    deliver(api, order)
    assert_paid_once(container, tron_node, order)
    sent = tron_node.broadcasts_of()
    assert [answer for _, answer in sent] == ["504", "SUCCESS"] and sent[0][0] == sent[1][0]


def test_a_transaction_that_expired_unlanded_is_replaced_once(api, container, tron_node, clock):
    order = paid_exchange(api)
    tron_node.inject("drop")
    api.drain("delivery", "deliver_orders")
    first = container.payouts.get(f"order:{order['order_id']}")
    deliver(api, order, times=2, prefix="early")     # not expired yet: the same one is sent, nothing new
    assert container.payouts.get(f"order:{order['order_id']}").tx_id == first.tx_id
    clock.advance(seconds=container.tron_settings.lifetime_seconds + 60)
    deliver(api, order, prefix="before-margin")      # expired, but blocks that young may still change
    assert container.payouts.get(f"order:{order['order_id']}").tx_id == first.tx_id
    clock.advance(seconds=60)
    deliver(api, order, times=3, prefix="late")
    assert_paid_once(container, tron_node, order)
    payout = container.payouts.get(f"order:{order['order_id']}")
    assert payout.attempt == 2 and payout.tx_ids == (first.tx_id, payout.tx_id) and payout.tx_id != first.tx_id


def test_two_workers_racing_on_a_paid_order_pay_once(api, container, tron_node):
    order = paid_exchange(api)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(container.trx_exchange_fulfiller.fulfil(order["order_id"]))
        except Exception as error:  # a worker that found the payout not landed yet retries later
            results.append(error)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deliver(api, order)
    assert_paid_once(container, tron_node, order)
    assert len({tx for tx, _ in tron_node.broadcasts_of()}) == 1


def test_the_chain_clock_decides_expiry_not_the_workers(api, container, tron_node, clock):
    order = paid_exchange(api)
    tron_node.inject("hold")
    api.drain("delivery", "deliver_orders")
    assert tron_node.mine() != []
    clock.advance(hours=1)
    deliver(api, order, times=2)
    assert_paid_once(container, tron_node, order)
    assert container.payouts.get(f"order:{order['order_id']}").attempt == 1


def test_two_workers_finding_the_same_expired_transaction_replace_it_once(api, container, tron_node, clock):
    order = paid_exchange(api)
    tron_node.inject("drop")
    api.drain("delivery", "deliver_orders")
    first = container.payouts.get(f"order:{order['order_id']}")
    clock.advance(seconds=container.tron_settings.lifetime_seconds + 180)
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            container.trx_exchange_fulfiller.fulfil(order["order_id"])
        except Exception:  # noqa: BLE001 - the loser may find the new transaction not landed yet
            pass
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deliver(api, order)
    assert_paid_once(container, tron_node, order)
    payout = container.payouts.get(f"order:{order['order_id']}")
    assert payout.attempt == 2 and payout.tx_ids[0] == first.tx_id
    assert len({tx for tx, _ in tron_node.broadcasts_of()}) == 2      # the dropped one and its one replacement


def test_the_days_reconciliation_proves_payouts_against_their_entries(api, container, tron_node, clock):
    tron_node.transfer_fee_sun = 268_000                     # bandwidth burned: the entry carries a fee line
    order = paid_exchange(api)
    api.drain("delivery", "deliver_orders")
    day = clock.now().date()
    clock.current = midnight(day + timedelta(days=1)) + timedelta(minutes=15)

    report = container.reconciliation.reconcile(day)

    assert report.ok, report.differences
    assert report.counts["payouts"] == 1
    entry = container.ledger.entry(f"payout:order:{order['order_id']}")
    assert {line.account: line.amount_micros for line in entry.lines}[hot_wallet()] == 40_268_000


@pytest.mark.books_damaged
def test_a_payout_that_disagrees_with_its_entry_is_reported(api, container, tron_node, clock, aws):
    order = paid_exchange(api)
    api.drain("delivery", "deliver_orders")
    aws["dynamodb"].update_item(TableName=f"{PREFIX}-payouts", Key={"payout_id": {"S": f"order:{order['order_id']}"}},
                                UpdateExpression="SET booked_amount = :more",
                                ExpressionAttributeValues={":more": {"N": "41000000"}})
    day = clock.now().date()
    clock.current = midnight(day + timedelta(days=1)) + timedelta(minutes=15)

    report = container.reconciliation.reconcile(day)

    assert [(d.kind.value, d.payout_id) for d in report.differences] == [
        ("payout_amount", f"order:{order['order_id']}")]
    assert report.differences[0].expected[payouts_account("TRX_EXCHANGE")] == -41_000_000
