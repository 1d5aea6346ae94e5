"""Withdrawals end to end: wallet balance out to a TRON address as USDT through the exactly-once payout, the
amount plus the fee taken from the wallet in one conditional write, limits from the settings, a hot wallet
that holds too little USDT making the withdrawal wait with an operator alert, and a transfer that reverts on
chain: its burned TRX booked once, the day's ceiling given back, the order up for review and retried."""
from __future__ import annotations

import json

from chalicelib.domain import ledger
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.operators import AdminActor
from chalicelib.domain.payouts import hot_wallet, network_fees, payouts_account
from chalicelib.domain.ports.payouts import PayoutState
from chalicelib.tron_config import LOCAL_SHOP_ADDRESS
from devstack.tron_node.local import BUYER_ADDRESSES
from devstack.tron_node.state import OUT_OF_ENERGY_FEE_SUN
from tests.conftest import sqs_event

BUYER = 1001
OWNER = f"user:{BUYER}"
TO = BUYER_ADDRESSES[2]
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def withdraw(api, amount: str, address: str = TO):
    return api.create_order(product_id="withdrawal", payment_method="balance", address=address, amount=amount)


def usdt_sent(node) -> list[int]:
    return [value["token_amount"] for value in node.landed_payouts(TO) if value["type"] == "TriggerSmartContract"]


def test_a_withdrawal_takes_amount_and_fee_from_the_wallet_and_sends_the_amount_once(api, container, tron_node):
    container.wallets.adjust(OWNER, 50_000_000, "test credit", "credit-1")
    response = withdraw(api, "20")
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    assert container.wallets.balance(OWNER).balance_micros == 29_000_000        # 20 and the 1 USDT fee
    api.drain("delivery", "deliver_orders")
    for index in range(3):     # redeliveries find it delivered
        api.client.lambda_.invoke("deliver_orders", sqs_event([{"MessageId": f"again-{index}", "ReceiptHandle": "r",
                                                                "Body": json.dumps({"order_id": order["order_id"],
                                                                                    "kind": "WITHDRAWAL"})}]))
    stored = container.orders.get(order["order_id"])
    assert stored.status == OrderStatus.DELIVERED and stored.details["payout_tx"] in tron_node.landed
    assert usdt_sent(tron_node) == [20_000_000]
    assert tron_node.accounts[TO].tokens[USDT] == 20_000_000
    entry = container.ledger.entry(f"payout:order:{order['order_id']}")
    assert {line.account: line.amount_micros for line in entry.lines} == {
        hot_wallet("USDT"): 20_000_000, payouts_account("WITHDRAWAL", "USDT"): -20_000_000}
    assert container.ledger.balance(ledger.revenue("WITHDRAWAL", "USDT")) == 21_000_000


def test_more_than_the_balance_is_refused_and_nothing_is_taken(api, container, tron_node):
    container.wallets.adjust(OWNER, 10_000_000, "test credit", "credit-2")
    response = withdraw(api, "10")           # 10 plus the fee is more than the wallet holds
    assert response.status_code in (402, 409), response.body
    assert container.wallets.balance(OWNER).balance_micros == 10_000_000
    assert tron_node.broadcasts_of() == []


def test_amounts_outside_the_limits_and_bad_addresses_are_refused(api, container, tron_node):
    container.wallets.adjust(OWNER, 5_000_000_000, "test credit", "credit-3")
    small = withdraw(api, "1")
    assert small.status_code == 400 and json.loads(small.body)["error"]["code"] == "AMOUNT_OUT_OF_RANGE"
    bad = withdraw(api, "10", address="0x" + "ab" * 20)
    assert bad.status_code == 400 and json.loads(bad.body)["error"]["field"] == "address"


def test_a_hot_wallet_short_of_usdt_makes_the_withdrawal_wait(api, container, tron_node, calls):
    container.wallets.adjust(OWNER, 50_000_000, "test credit", "credit-4")
    tron_node.fund(LOCAL_SHOP_ADDRESS, tokens={USDT: 5_000_000})
    order = json.loads(withdraw(api, "20").body)
    api.drain("delivery", "deliver_orders")
    assert container.orders.get(order["order_id"]).status == OrderStatus.WAITING_FUNDS
    assert any("too little for 20.00 USDT" in call["params"]["text"] for call in calls("sendMessage")
               if call["params"]["chat_id"] == 999)
    assert tron_node.broadcasts_of() == []


def test_a_transfer_that_reverts_on_chain_puts_the_withdrawal_up_for_review(api, container, tron_node, calls):
    container.wallets.adjust(OWNER, 50_000_000, "test credit", "credit-5")
    order = json.loads(withdraw(api, "20").body)
    tron_node.inject("hold")
    api.drain("delivery", "deliver_orders")                 # signed, taken by the node, not in a block yet
    tron_node.fund(LOCAL_SHOP_ADDRESS, tokens={USDT: 1_000_000})   # the hot wallet was emptied meanwhile
    assert len(tron_node.mine()) == 1                      # the block holds it, reverted
    api.client.lambda_.invoke("deliver_orders", sqs_event([{"MessageId": "again", "ReceiptHandle": "r",
                                                            "Body": json.dumps({"order_id": order["order_id"],
                                                                                "kind": "WITHDRAWAL"})}]))
    stored = container.orders.get(order["order_id"])
    assert stored.status == OrderStatus.NEEDS_REVIEW and "failed on chain" in stored.failure_reason
    assert usdt_sent(tron_node) == [20_000_000] and tron_node.accounts[TO].tokens.get(USDT, 0) == 0
    assert container.ledger.entry(f"payout:order:{order['order_id']}") is None     # nothing left the books
    assert container.payouts.get(f"order:{order['order_id']}").state == PayoutState.REVERTED
    assert any("landed as" in call["params"]["text"] for call in calls("sendMessage")
               if call["params"]["chat_id"] == 999)


def redeliver(api, order: dict, times: int) -> None:
    for index in range(times):
        api.client.lambda_.invoke("deliver_orders", sqs_event([{"MessageId": f"re-{index}", "ReceiptHandle": "r",
                                                                "Body": json.dumps({"order_id": order["order_id"],
                                                                                    "kind": "WITHDRAWAL"})}]))


def test_a_transfer_out_of_energy_books_its_burned_fee_once_and_a_retry_pays(api, container, tron_node, clock):
    container.wallets.adjust(OWNER, 50_000_000, "test credit", "credit-6")
    order = json.loads(withdraw(api, "20").body)
    tron_node.inject("revert")
    api.drain("delivery", "deliver_orders")
    redeliver(api, order, times=3)                        # redeliveries find it settled: nothing booked twice
    payout = container.payouts.get(f"order:{order['order_id']}")
    assert payout.state == PayoutState.REVERTED and payout.fee_sun == OUT_OF_ENERGY_FEE_SUN
    assert "OUT_OF_ENERGY" in payout.last_error
    assert container.orders.get(order["order_id"]).status == OrderStatus.NEEDS_REVIEW
    fee = container.ledger.entry(f"payout-fee:order:{order['order_id']}")
    assert {line.account: line.amount_micros for line in fee.lines} == {
        hot_wallet(): OUT_OF_ENERGY_FEE_SUN, network_fees(): -OUT_OF_ENERGY_FEE_SUN}
    assert container.ledger.balance(network_fees()) == -OUT_OF_ENERGY_FEE_SUN
    assert container.ledger.entry(f"payout:order:{order['order_id']}") is None
    assert tron_node.accounts[TO].tokens.get(USDT, 0) == 0
    day = clock.now().date().isoformat()
    assert container.payout_store.paid_today("USDT", day) == 0          # it paid nothing: the ceiling is free

    clock.advance(minutes=10)                             # a person looked into it
    container.order_desk.retry_delivery(AdminActor("operator:1"), order["order_id"], "funded, try again")
    api.drain("delivery", "deliver_orders")
    stored = container.orders.get(order["order_id"])
    assert stored.status == OrderStatus.DELIVERED and stored.details["payout_id"] == f"order:{order['order_id']}:2"
    assert tron_node.accounts[TO].tokens[USDT] == 20_000_000
    assert container.payout_store.paid_today("USDT", day) == 20_000_000
    assert container.ledger.balance(network_fees()) == -OUT_OF_ENERGY_FEE_SUN


def test_two_equal_withdrawals_in_one_block_are_two_transfers_on_chain(api, container, tron_node):
    """The same instruction signed against the same block is the same transaction: the second payout is signed
    as another variant, so the chain pays twice what the books pay twice."""
    container.wallets.adjust(OWNER, 50_000_000, "test credit", "credit-7")
    orders = [json.loads(withdraw(api, "5").body) for _ in range(2)]
    api.drain("delivery", "deliver_orders")
    payouts = [container.payouts.get(f"order:{order['order_id']}") for order in orders]
    assert [payout.state for payout in payouts] == [PayoutState.LANDED] * 2
    assert payouts[0].tx_id != payouts[1].tx_id
    assert usdt_sent(tron_node) == [5_000_000, 5_000_000] and tron_node.accounts[TO].tokens[USDT] == 10_000_000
