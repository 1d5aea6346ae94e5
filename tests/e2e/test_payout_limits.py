"""Risk limits on payouts, end to end: a payout over the per-payout maximum, the day's ceiling (counted by the
claim itself, so two orders racing for the last room get one payout), and the hot wallet's reserve each make
the order wait (WAITING_FUNDS) with an operator alert; a limit raised or a wallet funded lets it through."""
from __future__ import annotations

import json
import threading

from chalicelib.domain.errors import Conflict
from chalicelib.domain.orders import OrderStatus
from chalicelib.tron_config import LOCAL_SHOP_ADDRESS
from devstack.tron_node.local import BUYER_ADDRESSES
from tests.support import outcome, tx_id


def paid_exchange(api, trx: str, user_id: int = 1001) -> dict:
    response = api.create_order(user_id=user_id, product_id="trx_exchange", address=BUYER_ADDRESSES[0],
                                trx_amount=trx)
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    outcome(api.pay(order, tx=tx_id(f"pay-{order['order_id']}")))
    return order


def limits(container, **values) -> None:
    container.settings_store.put("payout_limits", values)
    container.live_settings.forget()


def status(container, order) -> OrderStatus:
    return container.orders.get(order["order_id"]).status


def alerts(calls) -> list[str]:
    return [call["params"]["text"] for call in calls("sendMessage") if call["params"]["chat_id"] == 999]


def test_over_the_per_payout_maximum_waits_until_the_limit_is_raised(api, container, tron_node, calls, clock):
    limits(container, per_payout_max_trx="30")
    order = paid_exchange(api, "40")
    api.drain("delivery", "deliver_orders")
    assert status(container, order) == OrderStatus.WAITING_FUNDS
    assert any("over the per-payout maximum" in text for text in alerts(calls))
    limits(container, per_payout_max_trx="100")
    clock.advance(minutes=6)
    api.tick("repair_orders")
    api.drain("delivery", "deliver_orders")
    assert status(container, order) == OrderStatus.DELIVERED


def test_the_days_ceiling_lets_one_of_two_racing_payouts_through(api, container, tron_node, calls):
    limits(container, daily_max_trx="60")
    orders = [paid_exchange(api, "40", user_id=1001 + n) for n in range(2)]
    barrier = threading.Barrier(2)

    def worker(order) -> None:
        barrier.wait()
        container.trx_exchange_fulfiller.fulfil(order["order_id"])
    threads = [threading.Thread(target=worker, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status(container, order) for order in orders) == [OrderStatus.DELIVERED, OrderStatus.WAITING_FUNDS]
    assert len(tron_node.landed) == 1
    assert any("payout ceiling is reached" in text for text in alerts(calls))
    assert container.payout_store.paid_today("TRX", "2026-11-25") == 40_000_000


def test_the_hot_wallets_reserve_is_kept(api, container, tron_node, calls):
    tron_node.fund(LOCAL_SHOP_ADDRESS, 50_000_000)         # 50 TRX, 20 of them the reserve
    order = paid_exchange(api, "40")
    api.drain("delivery", "deliver_orders")
    assert status(container, order) == OrderStatus.WAITING_FUNDS and tron_node.broadcasts_of() == []
    assert any("too little for 40 TRX above its reserve" in text for text in alerts(calls))


def test_a_cancelled_payout_gives_its_amount_back_to_the_days_ceiling_once(api, container, tron_node, clock):
    limits(container, daily_max_trx="60")
    order = paid_exchange(api, "40")
    tron_node.inject("drop")                                 # taken, never lands
    api.drain("delivery", "deliver_orders")
    day = clock.now().date().isoformat()
    assert container.payout_store.paid_today("TRX", day) == 40_000_000
    clock.advance(seconds=container.tron_settings.lifetime_seconds + 180)   # provably expired unlanded
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def operator() -> None:
        barrier.wait()
        try:
            container.payout_desk.cancel(f"order:{order['order_id']}", "dropped by the network")
            outcomes.append("cancelled")
        except Conflict as refused:
            outcomes.append(refused.code)
    threads = [threading.Thread(target=operator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("cancelled") == 1 and {"PAYOUT_CHANGED", "PAYOUT_NOT_CANCELLABLE"} & set(outcomes)
    assert container.payout_store.paid_today("TRX", day) == 0          # given back once, never below zero
    assert status(container, order) == OrderStatus.NEEDS_REVIEW
    # the room is there again: another 40 TRX fits under the 60 TRX ceiling the same day
    other = paid_exchange(api, "40", user_id=1002)
    api.drain("delivery", "deliver_orders")
    assert status(container, other) == OrderStatus.DELIVERED
    assert container.payout_store.paid_today("TRX", day) == 40_000_000
