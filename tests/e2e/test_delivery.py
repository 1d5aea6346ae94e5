"""The delivery worker: at most one gift per order, whatever is retried, raced or crashed."""
from __future__ import annotations

import json
import threading


from chalicelib.domain.orders import OrderStatus
from tests.codes_support import codes  # noqa: F401 - the fixture


def paid_order(api, recipient=None) -> dict:
    body = {} if recipient is None else {"recipient_user_id": recipient}
    order = json.loads(api.create_order(**body).body)
    assert json.loads(api.pay(order).body)["results"][0]["outcome"] == "MATCHED"
    return order


def status_of(container, order) -> OrderStatus:
    return container.orders.get(order["order_id"]).status


def deliver_message(api, order, times=1, message_prefix="m"):
    """Hand the worker the same order message `times` times, each with its own message id."""
    from tests.conftest import sqs_event

    results = []
    for index in range(times):
        event = sqs_event([{"MessageId": f"{message_prefix}-{index}", "ReceiptHandle": f"r-{index}",
                            "Body": json.dumps({"order_id": order["order_id"]})}])
        results.append(api.client.lambda_.invoke("deliver_orders", event).payload)
    return results


def test_buyer_and_recipient_are_told(api, container, calls):
    order = paid_order(api, recipient=2002)
    api.drain("delivery", "deliver_orders")
    assert status_of(container, order) == OrderStatus.DELIVERED
    told = {call["params"]["chat_id"] for call in calls("sendMessage")}
    assert {1001, 2002} <= told


def test_the_same_message_five_times_gifts_once(api, container, calls):
    order = paid_order(api)
    results = deliver_message(api, order, times=5)
    assert all(result == {"batchItemFailures": []} for result in results)
    assert len(calls("giftPremiumSubscription")) == 1
    assert status_of(container, order) == OrderStatus.DELIVERED


def test_two_workers_at_once_gift_once(api, container, calls):
    order = paid_order(api)
    barrier = threading.Barrier(2)

    def work():
        barrier.wait()
        container.fulfilment.fulfil(order["kind"], order["order_id"])

    threads = [threading.Thread(target=work) for _ in range(2)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert len(calls("giftPremiumSubscription")) == 1
    assert status_of(container, order) == OrderStatus.DELIVERED


def test_a_crash_after_the_gift_never_gifts_again(api, container, calls, monkeypatch, clock):
    order = paid_order(api)
    original = container.orders.apply

    def crash_on_delivered(current, transition, now, **changes):
        if transition.target == OrderStatus.DELIVERED:
            raise RuntimeError("Lambda died after the gift")
        return original(current, transition, now, **changes)

    monkeypatch.setattr(container.orders, "apply", crash_on_delivered)
    failures = deliver_message(api, order)[0]["batchItemFailures"]
    assert len(failures) == 1  # the message comes back
    monkeypatch.setattr(container.orders, "apply", original)
    deliver_message(api, order, times=3, message_prefix="again")
    assert len(calls("giftPremiumSubscription")) == 1
    assert status_of(container, order) == OrderStatus.DELIVERING
    clock.advance(minutes=16)
    api.tick("repair_orders")
    assert status_of(container, order) == OrderStatus.NEEDS_REVIEW
    assert len(calls("giftPremiumSubscription")) == 1


def test_rate_limits_are_honoured_then_the_gift_goes_through(api, container, calls, sandbox):
    from devstack.sandbox import FaultRule

    order = paid_order(api)
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="giftPremiumSubscription", error_code=429,
                                                      retry_after=1, times=2))
    deliver_message(api, order)
    gifts = calls("giftPremiumSubscription")
    assert [call["status"] for call in gifts] == [429, 429, 200]
    assert status_of(container, order) == OrderStatus.DELIVERED


def test_a_permanent_error_fails_the_order_with_telegrams_description(api, container, calls, sandbox):
    from devstack.sandbox import FaultRule

    order = paid_order(api)
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                                      description="Bad Request: user not found", times=1))
    deliver_message(api, order)
    failed = container.orders.get(order["order_id"])
    assert failed.status == OrderStatus.FAILED and "user not found" in failed.failure_reason
    assert any("could not deliver" in call["params"]["text"] for call in calls("sendMessage"))


def test_server_errors_that_never_clear_leave_the_order_for_review(api, container, calls, sandbox):
    from devstack.sandbox import FaultRule

    order = paid_order(api)
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="giftPremiumSubscription", error_code=500,
                                                      times=10))
    deliver_message(api, order, times=2)
    assert status_of(container, order) == OrderStatus.NEEDS_REVIEW
    attempts = len(calls("giftPremiumSubscription"))
    deliver_message(api, order, message_prefix="later")
    assert len(calls("giftPremiumSubscription")) == attempts  # never gifted again automatically


def test_too_few_stars_waits_and_the_repair_job_finishes_it(api, container, calls, sandbox, clock):
    state = sandbox.extensions["sandbox"]
    state.set_star_balance(10)
    order = paid_order(api)
    api.drain("delivery", "deliver_orders")
    assert status_of(container, order) == OrderStatus.WAITING_STARS
    assert calls("giftPremiumSubscription") == []
    assert any(call["params"]["chat_id"] == 999 for call in calls("sendMessage"))  # operator alerted
    state.set_star_balance(5000)
    clock.advance(minutes=5)
    api.tick("repair_orders")
    api.drain("delivery", "deliver_orders")
    assert status_of(container, order) == OrderStatus.DELIVERED
    assert len(calls("giftPremiumSubscription")) == 1


def test_an_unreachable_telegram_puts_the_order_back_for_a_retry(api, container, calls):
    import httpx

    order = paid_order(api)
    container.telegram._client = httpx.Client(transport=httpx.MockTransport(
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused"))))
    result = deliver_message(api, order)[0]
    assert len(result["batchItemFailures"]) == 1
    assert status_of(container, order) == OrderStatus.PAID


def test_a_timeout_after_sending_is_never_retried(api, container):
    import httpx

    order = paid_order(api)
    sent = []

    def answer(request):
        sent.append(request.url.path)
        if request.url.path.endswith("giftPremiumSubscription"):
            raise httpx.ReadTimeout("no answer")
        return httpx.Response(200, json={"ok": True, "result": {"amount": 100000}})

    container.telegram._client = httpx.Client(transport=httpx.MockTransport(answer))
    deliver_message(api, order, times=3)
    assert status_of(container, order) == OrderStatus.NEEDS_REVIEW
    assert sum(path.endswith("giftPremiumSubscription") for path in sent) == 1


def test_a_malformed_message_is_reported_failed_for_the_dead_letter_queue(api):
    from tests.conftest import sqs_event

    event = sqs_event([{"MessageId": "bad", "ReceiptHandle": "r", "Body": "not json"},
                       {"MessageId": "unknown", "ReceiptHandle": "r2", "Body": json.dumps({"order_id": "nope"})}])
    result = api.client.lambda_.invoke("deliver_orders", event).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}


# ---------------------------------------------------------------------------------------------- ambiguous gifts
def gifted_then(state, *then):
    """The next gift request is carried out, then answered 502; `then` are faults for any later request."""
    from devstack.sandbox import FaultRule

    state.add_fault(FaultRule(method="giftPremiumSubscription", error_code=502, after_acting=True))
    for code, description in then:
        state.add_fault(FaultRule(method="giftPremiumSubscription", error_code=code, description=description))


def buyer_texts(calls, chat_id=1001) -> list[str]:
    return [call["params"]["text"] for call in calls("sendMessage") if call["params"]["chat_id"] == chat_id]


def test_gifted_then_502_is_one_gift_and_needs_review(api, container, calls, sandbox, clock):
    state = sandbox.extensions["sandbox"]
    balance = state.star_balance
    order = paid_order(api, recipient=2002)
    gifted_then(state)

    deliver_message(api, order, times=3)
    clock.advance(minutes=30)
    api.tick("repair_orders")
    api.drain("delivery", "deliver_orders")

    assert len(calls("giftPremiumSubscription")) == 1 and state.star_balance == balance - 1000
    stored = container.orders.get(order["order_id"])
    assert stored.status == OrderStatus.NEEDS_REVIEW and "outcome unknown" in stored.failure_reason
    assert not any("could not deliver" in text for text in buyer_texts(calls))
    assert any("needs review" in call["params"]["text"] for call in calls("sendMessage")
               if call["params"]["chat_id"] == 999)


def test_gifted_then_502_then_400_on_a_retry_never_ends_failed(api, container, calls, sandbox):
    state = sandbox.extensions["sandbox"]
    balance = state.star_balance
    order = paid_order(api, recipient=2002)
    gifted_then(state, (400, "Bad Request: PREMIUM_GIFT_FAILED"))

    deliver_message(api, order, times=2)

    assert state.star_balance == balance - 1000    # the buyer's friend has Premium ...
    assert status_of(container, order) == OrderStatus.NEEDS_REVIEW   # ... so the order is not FAILED
    assert len(calls("giftPremiumSubscription")) == 1
    assert not any("could not deliver" in text for text in buyer_texts(calls))


def test_a_redeemed_gift_that_was_gifted_then_502_keeps_its_use(codes, container, calls, sandbox):  # noqa: F811
    from tests.codes_support import error_of

    _, token = codes.create_distributor(telegram_user_id=None)
    pack = codes.buy(token)
    code = codes.codes_of(token, pack["order_id"])[0]
    assert codes.redeem(5002, code).status_code == 200
    gifted_then(sandbox.extensions["sandbox"], (400, "Bad Request: PREMIUM_GIFT_FAILED"))

    codes.deliver()

    redemption = json.loads(codes.get(token, "/distributors/me/redemptions").body)["redemptions"][0]
    assert redemption["status"] == "ACCEPTED"   # not FAILED: the use is not given back for a second gift
    assert container.orders.get(redemption["redemption_id"]).status == OrderStatus.NEEDS_REVIEW  # the gift order
    assert len(calls("giftPremiumSubscription")) == 1
    assert error_of(codes.redeem(5003, code))["code"] == "CODE_USED_UP"


# ---------------------------------------------------------------------------------------------- notices at most once
def test_a_delivery_retried_after_telegram_was_unreachable_says_payment_received_once(api, container, calls,
                                                                                      sandbox):
    import httpx

    from chalicelib.adapters.telegram import MAX_ATTEMPTS

    order = paid_order(api, recipient=2002)
    through = httpx.WSGITransport(app=sandbox)
    refused = []

    def answer(request):
        if request.url.path.endswith("giftPremiumSubscription") and len(refused) < MAX_ATTEMPTS:
            refused.append(request)   # the first gift call never connects, whatever the client retries
            raise httpx.ConnectError("refused")
        return through.handle_request(request)

    container.telegram._client = httpx.Client(transport=httpx.MockTransport(answer))
    assert len(deliver_message(api, order)[0]["batchItemFailures"]) == 1
    assert status_of(container, order) == OrderStatus.PAID
    deliver_message(api, order, message_prefix="retry")

    assert status_of(container, order) == OrderStatus.DELIVERED and len(calls("giftPremiumSubscription")) == 1
    texts = buyer_texts(calls)
    assert sum("Payment received" in text for text in texts) == 1
    assert sum("Done" in text for text in texts) == 1


def test_a_notice_sent_then_answered_502_is_not_sent_again(api, container, calls, sandbox):
    from devstack.sandbox import FaultRule

    order = paid_order(api)
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="sendMessage", error_code=502, after_acting=True))

    api.drain("delivery", "deliver_orders")

    assert status_of(container, order) == OrderStatus.DELIVERED
    assert sum("Payment received" in text for text in buyer_texts(calls)) == 1


def test_a_deployed_stage_delivers_premium_with_no_tron_settings(api, container, calls, monkeypatch):
    """A stage that sells nothing on TRON names no node, wallet or key; its Premium deliveries never ask."""
    for name in ("TRON_NODE_URL", "TRON_SHOP_ADDRESS", "TRON_PRIVATE_KEY", "TRON_PRIVATE_KEY_SSM_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    container.settings = container.settings.model_copy(update={"stage": "prod"})
    order = paid_order(api)
    assert deliver_message(api, order) == [{"batchItemFailures": []}]
    assert status_of(container, order) == OrderStatus.DELIVERED
    assert len(calls("giftPremiumSubscription")) == 1
