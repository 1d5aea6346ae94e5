"""The automatic exchange address end to end: USDT sent there within the bounds comes back to the sender as
TRX at the posted rate, once per transfer however often (or however concurrently) the webhook repeats it;
outside the bounds, or when the hot wallet is short, the money goes to review and no TRX leaves."""
from __future__ import annotations

import threading

from chalicelib.domain import ledger
from chalicelib.domain.auto_swap import swap_payout_id
from chalicelib.domain.payouts import hot_wallet, network_fees, payouts_account
from chalicelib.tron_config import LOCAL_SHOP_ADDRESS, LOCAL_SWAP_ADDRESS
from devstack.tron_node.state import ACTIVATION_FEE_SUN
from tests.support import STRANGER_ADDRESS, outcome, tx_id

# The default terms: 0.25 USDT a TRX plus a 3% spread, swaps from 1 to 500 USDT.
TEN_USDT_IN_SUN = 38_834_951


def swaps_to_sender(node) -> list[int]:
    return [int(value["amount"]) for value in node.landed_payouts(STRANGER_ADDRESS)
            if value["type"] == "TransferContract"]


def test_a_transfer_within_the_bounds_is_swapped_back_once(api, container, tron_node):
    tx = tx_id("swap-10")
    results = [outcome(api.pay(amount="10", to=LOCAL_SWAP_ADDRESS, tx=tx)) for _ in range(3)]
    assert [result["outcome"] for result in results] == ["SWAPPED"] * 3
    assert [result.get("replayed") for result in results] == [None, True, True]
    assert swaps_to_sender(tron_node) == [TEN_USDT_IN_SUN]
    assert len(tron_node.broadcasts_of()) == 1
    payment = {line.account: line.amount_micros for line in container.ledger.entry(ledger.payment_entry_id(tx)).lines}
    assert payment == {ledger.clearing(LOCAL_SWAP_ADDRESS, "USDT"): -10_000_000,
                       ledger.revenue("AUTO_SWAP", "USDT"): 10_000_000}
    payout = {line.account: line.amount_micros
              for line in container.ledger.entry(f"payout:{swap_payout_id(tx)}").lines}
    # the sender's address did not exist on chain: sending it TRX activated it, and the chain burned 1.1 TRX
    assert payout == {hot_wallet(): TEN_USDT_IN_SUN + ACTIVATION_FEE_SUN,
                      payouts_account("AUTO_SWAP"): -TEN_USDT_IN_SUN, network_fees(): -ACTIVATION_FEE_SUN}


def test_concurrent_deliveries_of_one_transfer_swap_once(api, container, tron_node):
    tx = tx_id("swap-race")
    barrier = threading.Barrier(3)
    answers: list[int] = []

    def post() -> None:
        barrier.wait()
        answers.append(api.pay(amount="10", to=LOCAL_SWAP_ADDRESS, tx=tx).status_code)
    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    api.tick("drive_payouts")
    assert swaps_to_sender(tron_node) == [TEN_USDT_IN_SUN]
    assert len({tx for tx, _ in tron_node.broadcasts_of()}) == 1


def test_a_transfer_outside_the_bounds_goes_to_review_and_swaps_nothing(api, container, tron_node, calls):
    result = outcome(api.pay(amount="900", to=LOCAL_SWAP_ADDRESS, tx=tx_id("swap-big")))
    assert result["outcome"] == "UNMATCHED" and result["reason"].startswith("SWAP_OUT_OF_BOUNDS")
    assert swaps_to_sender(tron_node) == [] and container.payouts.get(swap_payout_id(tx_id("swap-big"))) is None
    assert container.ledger.balance(ledger.suspense("USDT")) == 900_000_000
    assert any(call["params"]["chat_id"] == 999 for call in calls("sendMessage"))


def test_a_short_hot_wallet_holds_the_swap_for_review(api, container, tron_node):
    tron_node.fund(LOCAL_SHOP_ADDRESS, 5_000_000)
    result = outcome(api.pay(amount="10", to=LOCAL_SWAP_ADDRESS, tx=tx_id("swap-short")))
    assert result["outcome"] == "UNMATCHED" and result["reason"].startswith("SWAP_HELD")
    assert swaps_to_sender(tron_node) == []
