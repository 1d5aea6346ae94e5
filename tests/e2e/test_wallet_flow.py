"""The wallet end to end on emulated AWS: a top-up paid by transfer, a purchase paid from the balance, a
refund of a gift that failed for good, and what each costs in DynamoDB calls."""
from __future__ import annotations

import json

from bench.dynamo_counter import DynamoCounter
from chalicelib.domain import ledger
from chalicelib.domain.orders import OrderStatus
from tests.support import ADDRESSES, new_order, outcome, tx_id

BUYER = 1001
OWNER = f"user:{BUYER}"
WALLET = ledger.wallet(OWNER, "USDT")
CLEARING = ledger.clearing(ADDRESSES[0], "USDT")
PREMIUM_REVENUE = ledger.revenue("PREMIUM_GIFT", "USDT")
PRICE = 15_000_000     # premium_3m: paid from the balance it needs no unique suffix


def answer(response, status: int = 201) -> dict:
    assert response.status_code == status, response.body
    return json.loads(response.body)


def top_up(api, amount: str, **choice) -> dict:
    return answer(api.create_order(product_id="wallet_top_up", amount=amount, **choice))


def pay_from_balance(api, product_id: str = "premium_3m", **choice):
    return api.create_order(product_id=product_id, payment_method="balance", **choice)


def balance(container, owner_id: str = OWNER) -> int:
    return container.wallets.balance(owner_id).balance_micros


def lines_of(container, entry_id: str) -> dict[str, int]:
    return {line.account: line.amount_micros for line in container.ledger.entry(entry_id).lines}


def status_of(container, order: dict) -> OrderStatus:
    return container.orders.get(order["order_id"]).status


def deliver_message(api, order: dict, times: int = 1, prefix: str = "m") -> list[dict]:
    """Hand the delivery worker the same order message `times` times, each with its own message id."""
    from tests.conftest import sqs_event

    return [api.client.lambda_.invoke("deliver_orders", sqs_event([{
        "MessageId": f"{prefix}-{index}", "ReceiptHandle": f"r-{index}",
        "Body": json.dumps({"order_id": order["order_id"], "kind": order["kind"]})}])).payload
        for index in range(times)]


def test_a_top_up_paid_by_transfer_then_pays_a_gift_from_the_balance(api, container, calls):
    # Given a top-up of 20 USDT paid by its unique transfer and delivered by the worker
    order = top_up(api, "20")
    assert (order["kind"], order["status"], order["payment_method"]) == ("WALLET_TOP_UP", "PENDING", "trc20")
    topped = int(order["amount"].replace(".", "")) * 1_000    # 20.001 -> 20_001_000
    paid = outcome(api.pay(order, tx=tx_id("top-up")))
    assert (paid["outcome"], paid["order_id"]) == ("MATCHED", order["order_id"])
    assert lines_of(container, f"pay:{tx_id('top-up')}") == {CLEARING: -topped, WALLET: topped}
    api.drain("delivery", "deliver_orders")
    assert status_of(container, order) == OrderStatus.DELIVERED and balance(container) == topped

    # When the buyer orders Premium paid from the balance
    bought = answer(pay_from_balance(api))

    # Then the answer shows it paid, the money moved in one entry, and the worker delivers it
    assert (bought["status"], bought["payment_method"], bought["amount"]) == ("PAID", "balance", "15.000")
    assert bought["pay_to"] is None and bought["payment"]["paid_from"] == WALLET and bought["paid_at"]
    assert lines_of(container, f"balance:{bought['order_id']}") == {WALLET: -PRICE, PREMIUM_REVENUE: PRICE}
    assert balance(container) == topped - PRICE
    api.drain("delivery", "deliver_orders")
    assert status_of(container, bought) == OrderStatus.DELIVERED
    assert len(calls("giftPremiumSubscription")) == 1
    # and the books balance: what came in at the address is the revenue plus what the wallet still holds
    books = {account: container.ledger.balance(account) for account in (CLEARING, PREMIUM_REVENUE, WALLET)}
    assert books == {CLEARING: -topped, PREMIUM_REVENUE: PRICE, WALLET: topped - PRICE}
    assert sum(books.values()) == 0


def test_a_balance_short_of_the_price_is_refused_with_what_is_missing_and_nothing_is_written(api, container, aws):
    container.wallets.adjust(OWNER, 10_000_000, "goodwill", "seed-1")

    refused = answer(pay_from_balance(api), 409)

    assert refused["error"]["code"] == "INSUFFICIENT_BALANCE" and refused["error"]["field"] == "payment_method"
    assert answer(api.client.http.get("/orders", headers=api.buyer_headers()), 200)["orders"] == []
    assert balance(container) == 10_000_000 and container.ledger.balance(PREMIUM_REVENUE) == 0
    assert "Messages" not in aws["sqs"].receive_message(QueueUrl=aws["queues"]["tgshop-test-delivery"])


def test_a_top_up_is_not_paid_from_the_balance_and_its_amount_is_checked(api):
    refused = answer(pay_from_balance(api, "wallet_top_up", amount="10"), 400)
    assert refused["error"]["code"] == "PAYMENT_METHOD_NOT_ACCEPTED"
    for amount, code in (("0.5", "AMOUNT_OUT_OF_RANGE"), ("12.345", "VALIDATION_FAILED"),
                         ("1e999999", "VALIDATION_FAILED")):
        assert answer(api.create_order(product_id="wallet_top_up", amount=amount), 400)["error"]["code"] == code


def test_a_top_up_carrying_a_purchase_buys_it_once_even_when_its_message_comes_back(api, container, calls):
    container.wallets.adjust(OWNER, 12_000_000, "goodwill", "seed-1")
    order = top_up(api, "3", then_buy={"product_id": "premium_3m", "choice": {}})   # 12 + 3 pays the 15
    outcome(api.pay(order))

    deliver_message(api, order, times=3)

    orders = answer(api.client.http.get("/orders", headers=api.buyer_headers()), 200)["orders"]
    [bought] = [listed for listed in orders if listed["kind"] == "PREMIUM_GIFT"]
    assert (bought["status"], bought["payment_method"]) == ("PAID", "balance")
    assert balance(container) == 12_000_000 + int(order["amount"].replace(".", "")) * 1_000 - PRICE
    api.drain("delivery", "deliver_orders")
    assert status_of(container, bought) == OrderStatus.DELIVERED and len(calls("giftPremiumSubscription")) == 1


def test_a_failed_gift_is_refunded_once_to_the_wallet_even_when_its_message_is_redelivered(
        api, container, sandbox, monkeypatch):
    from devstack.sandbox import FaultRule

    order = new_order(api)
    assert outcome(api.pay(order))["outcome"] == "MATCHED"
    paid = container.orders.get(order["order_id"]).paid_micros
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                                      description="Bad Request: user not found"))
    original = container.orders.apply

    def die_after_failing(current, transition, now, entry=None, **changes):
        moved = original(current, transition, now, entry, **changes)
        if transition.target == OrderStatus.FAILED:
            raise RuntimeError("Lambda died after the failure was written")
        return moved

    monkeypatch.setattr(container.orders, "apply", die_after_failing)
    [first] = deliver_message(api, order)
    assert len(first["batchItemFailures"]) == 1          # the message comes back
    monkeypatch.setattr(container.orders, "apply", original)

    again = deliver_message(api, order, times=3, prefix="again")

    assert all(result == {"batchItemFailures": []} for result in again)
    assert status_of(container, order) == OrderStatus.FAILED
    assert balance(container) == paid
    assert lines_of(container, f"refund:{order['order_id']}") == {ledger.refunds("USDT"): -paid, WALLET: paid}
    assert [line.entry_id for line in container.wallets.history(OWNER, 10).items] == [f"refund:{order['order_id']}"]


def test_a_gift_paid_from_the_balance_that_fails_for_good_gives_the_balance_back(api, container, sandbox):
    from devstack.sandbox import FaultRule

    container.wallets.adjust(OWNER, 20_000_000, "goodwill", "seed-1")
    bought = answer(pay_from_balance(api))
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                                      description="Bad Request: user not found"))

    deliver_message(api, bought, times=2)

    assert status_of(container, bought) == OrderStatus.FAILED and balance(container) == 20_000_000


# ---------------------------------------------------------------------------------------------- DynamoDB work
def tables_of(counter: DynamoCounter) -> list[tuple[str, list[str]]]:
    return [(operation, sorted({next(iter(item.values()))["TableName"].removeprefix("tgshop-test-")
                                for item in params["TransactItems"]}) if "TransactItems" in params
             else [params.get("TableName", "").removeprefix("tgshop-test-")])
            for operation, params in counter.recorded]


def test_settling_an_exact_transfer_still_takes_one_slot_read_and_one_transaction(api):
    order = new_order(api)

    with DynamoCounter(record=True) as counter:
        assert outcome(api.pay(order))["outcome"] == "MATCHED"

    # the entry rides in the transaction that records the payment and marks the order PAID
    assert tables_of(counter) == [("GetItem", ["amount-slots"]),
                                  ("TransactWriteItems", ["accounts", "ledger", "orders", "payments"])]
    assert counter.failed_calls == 0


def test_paying_from_the_balance_is_one_transaction(api, container):
    container.wallets.adjust(OWNER, 20_000_000, "goodwill", "seed-1")
    container.products.offers()          # the prices are read at most every 30 s, not per order

    with DynamoCounter(record=True) as counter:
        assert answer(pay_from_balance(api))["status"] == "PAID"

    assert tables_of(counter) == [("TransactWriteItems", ["ledger", "orders"])]
    assert counter.failed_calls == 0
