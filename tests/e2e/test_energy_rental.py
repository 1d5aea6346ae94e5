"""Energy rental end to end against the fake TRON node: ordered for an activated address, paid, delegated
once, taken back once when the rental ends (by the drive_payouts schedule, however often and however many
run at once), refused for an address that was never activated, and held WAITING_FUNDS with an operator
alert when the shop has too little staked TRX to lend."""
from __future__ import annotations

import json
import threading

from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.payouts import delegated, energy_inventory
from chalicelib.domain.ports.payouts import PayoutState
from chalicelib.domain.products.energy_rental import return_payout_id
from chalicelib.tron_config import LOCAL_SHOP_ADDRESS
from devstack.tron_node.local import BUYER_ADDRESSES
from tests.support import outcome, tx_id

TO = BUYER_ADDRESSES[1]
ENERGY = 65_000
STAKED_SUN = 6_500 * 1_000_000      # ten energy a staked TRX on the fake chain


def rent(api, product_id: str = "energy_65k_1h", address: str = TO):
    return api.create_order(product_id=product_id, address=address)


def paid_rental(api) -> dict:
    response = rent(api)
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    outcome(api.pay(order, tx=tx_id(f"pay-{order['order_id']}")))
    return order


def balance(container, account: str) -> int:
    return container.ledger.balance(account)


def test_a_rental_is_delegated_once_and_taken_back_once_when_it_ends(api, container, tron_node, clock):
    order = paid_rental(api)
    api.drain("delivery", "deliver_orders")
    api.drain("delivery", "deliver_orders")
    stored = container.orders.get(order["order_id"])
    assert stored.status == OrderStatus.DELIVERED and stored.details["payout_tx"] in tron_node.landed
    assert tron_node.accounts[TO].acquired_energy_sun == STAKED_SUN
    assert balance(container, delegated(TO)) == -ENERGY and balance(container, energy_inventory()) == ENERGY
    assert container.payouts.get(return_payout_id(order["order_id"])).state == PayoutState.SCHEDULED

    api.tick("drive_payouts")                       # not due yet: nothing is taken back
    assert tron_node.accounts[TO].acquired_energy_sun == STAKED_SUN
    clock.advance(hours=1, seconds=1)
    runs = [threading.Thread(target=api.tick, args=("drive_payouts",)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    api.tick("drive_payouts")
    back = container.payouts.get(return_payout_id(order["order_id"]))
    assert back.state == PayoutState.LANDED and back.tx_id in tron_node.landed
    undelegations = [value for value in tron_node.landed_payouts(TO) if value["type"] == "UnDelegateResourceContract"]
    assert len(undelegations) == 1 and tron_node.accounts[TO].acquired_energy_sun == 0
    assert balance(container, delegated(TO)) == 0 and balance(container, energy_inventory()) == 0


def test_an_address_never_activated_is_refused_with_a_reason(api, tron_node):
    response = rent(api, address="TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy")
    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    assert (error["code"], error.get("field")) == ("ADDRESS_NOT_ACTIVATED", "address")
    assert "not activated" in error["message"]


def test_a_malformed_address_is_refused_before_the_chain_is_asked(api, tron_node):
    response = rent(api, address=TO[:-1] + "1")
    assert response.status_code == 400 and json.loads(response.body)["error"].get("field") == "address"
    assert tron_node.broadcasts_of() == []


def test_too_little_energy_when_ordering_is_refused(api, tron_node):
    tron_node.fund(LOCAL_SHOP_ADDRESS, staked_energy_sun=1_000_000)
    response = rent(api)
    assert response.status_code == 503 and json.loads(response.body)["error"]["code"] == "ENERGY_SOLD_OUT"


def test_too_little_energy_at_delivery_waits_for_funds_and_alerts_once(api, container, tron_node, calls, clock):
    order = paid_rental(api)
    shop = LOCAL_SHOP_ADDRESS
    tron_node.fund(shop, staked_energy_sun=1_000_000)        # lent out to others since the order was placed
    api.drain("delivery", "deliver_orders")
    assert container.orders.get(order["order_id"]).status == OrderStatus.WAITING_FUNDS
    alerts = [call for call in calls("sendMessage") if call["params"]["chat_id"] == 999]
    assert len(alerts) == 1 and "Payouts wait" in alerts[0]["params"]["text"]
    clock.advance(minutes=5)
    api.tick("repair_orders")
    api.drain("delivery", "deliver_orders")                    # still short: still waiting, no second alert yet
    assert container.orders.get(order["order_id"]).status == OrderStatus.WAITING_FUNDS
    assert len([call for call in calls("sendMessage") if call["params"]["chat_id"] == 999]) == 1
    tron_node.fund(shop, staked_energy_sun=10**12)               # the operator staked more
    clock.advance(minutes=5)
    api.tick("repair_orders")
    api.drain("delivery", "deliver_orders")
    assert container.orders.get(order["order_id"]).status == OrderStatus.DELIVERED
    assert len([value for value in tron_node.landed_payouts(TO) if value["type"] == "DelegateResourceContract"]) == 1

