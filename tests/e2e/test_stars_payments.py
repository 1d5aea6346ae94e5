"""Paying with Telegram Stars end to end on emulated AWS and the in-process Telegram sandbox: the invoice, the
pre-checkout answers, a successful payment settled once per charge however often it arrives, payments that
can no longer pay sent back once, and a failed gift refunded once with refundStarPayment. The books of every
test reconcile (tests/e2e/conftest.py), in XTR as in USDT."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain import ledger
from chalicelib.domain.orders import OrderStatus
from devstack.sandbox import FaultRule
from devstack.sandbox.stars import stars_of
from tests.telegram_updates import WEBHOOK_SECRET, user_json

BUYER = 1001
STARS = 1300                      # premium_3m's default Star price
MICROS = 1_000_000
CLEARING = ledger.clearing("telegram-stars", "XTR")
REVENUE = ledger.revenue("PREMIUM_GIFT", "XTR")
PAYOUTS = ledger.payouts("XTR")


def post_update(api, update: dict) -> dict:
    response = api.client.http.post("/telegram/webhook", body=json.dumps(update),
                                    headers={"Content-Type": "application/json",
                                             "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def stars_order(api, user_id: int = BUYER, **choice) -> dict:
    response = api.create_order(user_id=user_id, payment_method="stars", **choice)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def pre_checkout(api, order: dict, *, user_id: int = BUYER, amount: int = STARS, language: str = "en",
                 query_id: str = "q1") -> dict:
    """The answer the bot gave Telegram for this query."""
    post_update(api, {"update_id": 1, "pre_checkout_query": {
        "id": query_id, "from": user_json(user_id, language=language), "currency": "XTR", "total_amount": amount,
        "invoice_payload": order["order_id"]}})
    [answer] = [call["params"] for call in api.sandbox.calls("answerPreCheckoutQuery")
                if call["params"]["pre_checkout_query_id"] == query_id]
    return answer


def successful_payment(api, order: dict, charge_id: str, *, user_id: int = BUYER, amount: int = STARS,
                       update_id: int = 2) -> dict:
    user = user_json(user_id)
    return post_update(api, {"update_id": update_id, "message": {
        "message_id": 50 + update_id, "from": user, "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
        "date": 1_795_000_000, "successful_payment": {
            "currency": "XTR", "total_amount": amount, "invoice_payload": order["order_id"],
            "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": charge_id}}})


def charge(api, order: dict, user_id: int = BUYER, amount: int = STARS) -> str:
    """What Telegram does when the buyer pays: the charge exists and the bot holds the Stars."""
    state = api.sandbox
    state.set_star_balance(state.star_balance + amount)
    return stars_of(state).charge(user_id, amount, order["order_id"])


def lines_of(container, entry_id: str) -> dict[str, int]:
    return {line.account: line.amount_micros for line in container.ledger.entry(entry_id).lines}


@pytest.fixture
def stars_api(api, sandbox):
    api.sandbox = sandbox.extensions["sandbox"]
    return api


def test_a_stars_order_is_invoiced_paid_once_and_delivered(stars_api, container):
    api = stars_api
    order = stars_order(api, recipient_user_id=2002)
    assert (order["status"], order["currency"], order["amount"], order["payment_method"]) == \
        ("PENDING", "XTR", "1300", "stars")
    assert order["payment"]["invoice_payload"] == order["order_id"]

    link = api.client.http.post(f"/orders/{order['order_id']}/stars-invoice",
                                headers=api.buyer_headers(BUYER))
    assert link.status_code == 200, link.body
    assert json.loads(link.body)["invoice_link"].startswith("https://t.me/$")
    [invoice] = api.sandbox.calls("createInvoiceLink")
    assert invoice["status"] == 200
    assert (invoice["params"]["currency"], invoice["params"]["prices"][0]["amount"]) == ("XTR", STARS)

    assert pre_checkout(api, order)["ok"] is True
    charge_id = charge(api, order)
    assert successful_payment(api, order, charge_id)["result"] == "stars_matched"
    paid = container.orders.get(order["order_id"])
    assert (paid.status, paid.paid_micros, paid.payment_tx) == (OrderStatus.PAID, STARS * MICROS, f"stars:{charge_id}")
    assert lines_of(container, f"pay:stars:{charge_id}") == {CLEARING: -STARS * MICROS, REVENUE: STARS * MICROS}

    # The same update again, and the same payment under a new update id: nothing is written or sent again.
    before = container.ledger.balance(CLEARING)
    assert successful_payment(api, order, charge_id)["result"] == "stars_matched"
    assert successful_payment(api, order, charge_id, update_id=3)["result"] == "stars_matched"
    assert container.ledger.balance(CLEARING) == before
    assert api.sandbox.calls("refundStarPayment") == []
    assert api.drain("delivery", "deliver_orders") == 1
    assert container.orders.get(order["order_id"]).status == OrderStatus.DELIVERED
    [gift] = api.sandbox.calls("giftPremiumSubscription")
    assert gift["params"]["user_id"] == 2002


def test_pre_checkout_refuses_what_can_no_longer_be_paid(stars_api, container, clock):
    api = stars_api
    mine, other = stars_order(api), stars_order(api, user_id=3003)
    unknown = dict(mine, order_id="01JZZZZZZZZZZZZZZZZZZZZZZZ")
    refusals = {
        "unknown": pre_checkout(api, unknown, query_id="a"),
        "someone else's": pre_checkout(api, other, query_id="b"),
        "another amount": pre_checkout(api, mine, amount=STARS - 1, query_id="c"),
    }
    container.settings_store.put("star_prices", {"premium_3m": 1400, "premium_6m": 1900, "premium_12m": 3200})
    container.live_settings.forget()
    refusals["price changed"] = pre_checkout(api, mine, query_id="d", language="ru")
    container.settings_store.put("star_prices", {"premium_3m": STARS, "premium_6m": 1900, "premium_12m": 3200})
    container.live_settings.forget()
    assert pre_checkout(api, mine, query_id="e")["ok"] is True
    clock.advance(minutes=31)                      # past its deadline, before the expiry job ran
    refusals["past its deadline"] = pre_checkout(api, mine, query_id="f")
    cancelled = stars_order(api, user_id=4004)
    api.client.http.post(f"/orders/{cancelled['order_id']}/cancel", headers=api.buyer_headers(4004))
    refusals["cancelled"] = pre_checkout(api, cancelled, user_id=4004, query_id="g")

    assert {name: answer["ok"] for name, answer in refusals.items()} == dict.fromkeys(refusals, False)
    assert refusals["price changed"]["error_message"] == "Цена в звёздах изменилась. Оформите заказ заново."
    assert refusals["cancelled"]["error_message"] == "This order can no longer be paid. Please order again."
    assert refusals["unknown"]["error_message"] == "This invoice does not belong to an open order of yours."
    assert all(call["status"] == 200 for call in api.sandbox.calls("answerPreCheckoutQuery"))


def test_a_payment_that_can_no_longer_pay_its_order_is_sent_back_once(stars_api, container):
    api = stars_api
    order = stars_order(api)
    assert pre_checkout(api, order)["ok"] is True
    api.client.http.post(f"/orders/{order['order_id']}/cancel", headers=api.buyer_headers(BUYER))
    paid_once = stars_order(api)
    first_charge, second_charge = charge(api, paid_once), charge(api, paid_once)
    cancelled_charge = charge(api, order)
    balance = api.sandbox.star_balance

    # A cancelled order is paid late like any method's; a second charge for a paid order goes back.
    assert successful_payment(api, order, cancelled_charge)["result"] == "stars_late_matched"
    assert successful_payment(api, paid_once, first_charge)["result"] == "stars_matched"
    assert successful_payment(api, paid_once, second_charge, update_id=4)["result"] == "stars_returned"
    assert successful_payment(api, paid_once, second_charge, update_id=5)["result"] == "stars_returned"

    [refund] = api.sandbox.calls("refundStarPayment")
    assert refund["status"] == 200
    assert refund["params"] == {"user_id": BUYER, "telegram_payment_charge_id": second_charge}
    assert api.sandbox.star_balance == balance - STARS
    assert lines_of(container, f"pay:stars:{second_charge}") == {CLEARING: -STARS * MICROS, PAYOUTS: STARS * MICROS}
    assert container.payments.get(f"stars:{second_charge}").outcome == "RETURNED"


def test_a_failed_gift_paid_in_stars_is_refunded_once_with_refund_star_payment(stars_api, container):
    api = stars_api
    order = stars_order(api, recipient_user_id=2002)
    charge_id = charge(api, order)
    successful_payment(api, order, charge_id)
    api.sandbox.add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                    description="Bad Request: user not found"))
    balance = api.sandbox.star_balance

    from tests.e2e.test_wallet_flow import deliver_message
    deliver_message(api, order, times=3)             # the worker's message, delivered three times

    failed = container.orders.get(order["order_id"])
    assert failed.status == OrderStatus.FAILED
    [refund] = api.sandbox.calls("refundStarPayment")
    assert (refund["status"], refund["params"]["telegram_payment_charge_id"]) == (200, charge_id)
    assert api.sandbox.star_balance == balance - STARS
    assert lines_of(container, f"refund:{order['order_id']}") == {ledger.refunds("XTR"): -STARS * MICROS,
                                                                   PAYOUTS: STARS * MICROS}
    assert container.ledger.balance(ledger.wallet(f"user:{BUYER}", "XTR")) == 0   # nothing went to a wallet
    texts = [call["params"]["text"] for call in api.sandbox.calls("sendMessage")
             if call["params"]["chat_id"] == BUYER]
    assert any("1300 Stars you paid were refunded" in text for text in texts)


def test_a_product_without_a_star_price_cannot_be_ordered_in_stars(stars_api):
    response = stars_api.create_order(product_id="wallet_top_up", amount="20", payment_method="stars")
    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    assert (error["code"], error["field"]) == ("PAYMENT_METHOD_NOT_ACCEPTED", "payment_method")


def test_one_successful_payment_from_ten_threads_pays_once_and_a_second_charge_is_returned_once(stars_api,
                                                                                                container):
    """Ten concurrent deliveries of each of two charges for one order race through the Stars payment service
    (what the webhook runs) against the emulator: the first charge pays, the other goes back exactly once."""
    import threading

    from chalicelib.domain.payment_methods.stars_payments import StarPayment

    api = stars_api
    order = stars_order(api)
    charges = [charge(api, order), charge(api, order)]
    payments = [StarPayment(BUYER, "XTR", STARS, order["order_id"], charge_id, {}) for charge_id in charges]
    barrier = threading.Barrier(20)
    outcomes, errors = [], []

    def pay(payment):
        barrier.wait()
        try:
            outcomes.append(container.stars_payments.paid(payment).outcome.value)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=pay, args=(payments[index % 2],)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(set(outcomes)) == ["MATCHED", "RETURNED"]
    assert container.orders.get(order["order_id"]).status == OrderStatus.PAID
    [refund] = api.sandbox.calls("refundStarPayment")
    paid_by = container.orders.get(order["order_id"]).payment_tx
    assert f"stars:{refund['params']['telegram_payment_charge_id']}" != paid_by
    assert container.ledger.balance(ledger.wallet(f"user:{BUYER}", "XTR")) == 0   # no Stars went to a wallet
    assert api.drain("delivery", "deliver_orders") == 1


def test_a_charge_that_loses_the_race_to_another_is_returned_not_credited(stars_api, container, monkeypatch):
    """The second charge read the order while it was still PENDING; its settle finds it paid and sends the Stars
    back (what a wallet credit would be for a transfer)."""
    api = stars_api
    order = stars_order(api)
    pending = container.orders.get(order["order_id"])
    first, second = charge(api, order), charge(api, order)
    assert successful_payment(api, order, first)["result"] == "stars_matched"
    real_get = container.orders.get
    reads = iter([pending])
    monkeypatch.setattr(container.orders, "get", lambda order_id: next(reads, None) or real_get(order_id))

    assert successful_payment(api, order, second, update_id=9)["result"] == "stars_returned"
    [refund] = api.sandbox.calls("refundStarPayment")
    assert refund["params"]["telegram_payment_charge_id"] == second
    assert container.ledger.balance(ledger.wallet(f"user:{BUYER}", "XTR")) == 0
    assert lines_of(container, f"pay:stars:{second}") == {CLEARING: -STARS * MICROS, PAYOUTS: STARS * MICROS}


def test_an_order_without_a_telegram_buyer_cannot_be_paid_in_stars(container, clock):
    from chalicelib.domain.errors import ValidationFailed
    from chalicelib.domain.products import OrderDraft

    container.settings_store.put("star_prices", {"codes_3m_x10": 9000})
    container.live_settings.forget()
    draft = OrderDraft(kind="CODE_PACK", owner_id="dist:d1", product_id="codes_3m_x10", base_micros=150_000_000)
    with pytest.raises(ValidationFailed) as refused:
        container.stars_method.open(draft, "01JZZZZZZZZZZZZZZZZZZZZZZZ", clock.now())
    assert refused.value.code == "PAYMENT_METHOD_NOT_ACCEPTED"
    assert container.orders.get("01JZZZZZZZZZZZZZZZZZZZZZZZ") is None


def test_an_operators_refund_of_a_stars_order_goes_back_in_stars_once(stars_api, container):
    from tests.support import TEST_ENV

    api = stars_api
    order = stars_order(api)
    charge_id = charge(api, order)
    successful_payment(api, order, charge_id)
    admin = {"X-Api-Key": TEST_ENV["ADMIN_API_KEY"], "Content-Type": "application/json"}
    action = json.dumps({"action": "refund", "reason": "buyer asked"})
    first = api.client.http.post(f"/admin/orders/{order['order_id']}/actions", headers=admin, body=action)
    again = api.client.http.post(f"/admin/orders/{order['order_id']}/actions", headers=admin, body=action)

    assert first.status_code == 200, first.body
    assert again.status_code == 409
    assert container.orders.get(order["order_id"]).status == OrderStatus.FAILED
    [refund] = api.sandbox.calls("refundStarPayment")
    assert (refund["status"], refund["params"]["telegram_payment_charge_id"]) == (200, charge_id)
    assert lines_of(container, f"refund:{order['order_id']}") == {ledger.refunds("XTR"): -STARS * MICROS,
                                                                   PAYOUTS: STARS * MICROS}
    assert container.ledger.balance(ledger.wallet(f"user:{BUYER}", "XTR")) == 0


def test_a_worker_that_dies_before_sending_a_stars_refund_leaves_it_to_the_redelivery(stars_api, container,
                                                                                       monkeypatch):
    from tests.e2e.test_wallet_flow import deliver_message

    api = stars_api
    order = stars_order(api)
    charge_id = charge(api, order)
    successful_payment(api, order, charge_id)
    api.sandbox.add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                    description="Bad Request: user not found"))
    registry = container.payment_methods

    def die(order):
        raise RuntimeError("the Lambda died after FAILED was written")

    monkeypatch.setattr(registry, "refunded", die)
    [first] = deliver_message(api, order)
    assert len(first["batchItemFailures"]) == 1                 # the message comes back
    assert container.orders.get(order["order_id"]).status == OrderStatus.FAILED
    assert api.sandbox.calls("refundStarPayment") == []
    monkeypatch.undo()

    deliver_message(api, order, times=3, prefix="again")        # the redelivery, and duplicates of it

    [refund] = api.sandbox.calls("refundStarPayment")
    assert (refund["status"], refund["params"]["telegram_payment_charge_id"]) == (200, charge_id)


def test_a_refund_sent_just_before_the_worker_died_is_not_sent_twice(stars_api, container, monkeypatch):
    from tests.e2e.test_wallet_flow import deliver_message

    api = stars_api
    order = stars_order(api)
    charge_id = charge(api, order)
    successful_payment(api, order, charge_id)
    api.sandbox.add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                    description="Bad Request: user not found"))
    registry = container.payment_methods
    send = registry.refunded

    def send_then_die(order):
        send(order)
        raise RuntimeError("the Lambda died after sending, before marking it sent")

    monkeypatch.setattr(registry, "refunded", send_then_die)
    deliver_message(api, order)
    monkeypatch.undo()
    balance = api.sandbox.star_balance
    deliver_message(api, order, prefix="again")

    # The redelivery tries once more and Telegram refuses a second refund of the charge: no Stars move.
    assert [call["status"] for call in api.sandbox.calls("refundStarPayment")] == [200, 400]
    assert api.sandbox.star_balance == balance
    alerts = [call["params"]["text"] for call in api.sandbox.calls("sendMessage") if call["params"]["chat_id"] == 999]
    assert not any("was booked but not sent" in text for text in alerts)
