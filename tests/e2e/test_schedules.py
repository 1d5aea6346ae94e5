"""expire_orders and repair_orders."""
from __future__ import annotations

import json
import threading

from chalicelib.domain.orders import OrderStatus


def test_expiry_moves_only_overdue_pending_orders_and_tells_the_buyer(api, container, clock, calls):
    old = json.loads(api.create_order(user_id=1).body)
    clock.advance(minutes=20)
    fresh = json.loads(api.create_order(user_id=2).body)
    clock.advance(minutes=11)
    report = api.tick("expire_orders")
    assert report == {"examined": 1, "changed": 1, "requeued": 0, "surfaced": 0}
    assert container.orders.get(old["order_id"]).status == OrderStatus.EXPIRED
    assert container.orders.get(fresh["order_id"]).status == OrderStatus.PENDING
    assert any(call["params"]["chat_id"] == 1 and "expired" in call["params"]["text"]
               for call in calls("sendMessage"))
    assert api.tick("expire_orders")["examined"] == 0  # expired orders leave the index


def test_expiry_frees_the_buyers_open_order_place(api, clock):
    for _ in range(3):
        api.create_order()
    clock.advance(minutes=31)
    api.tick("expire_orders")
    assert api.create_order().status_code == 201


def test_a_payment_racing_the_expiry_ends_paid_exactly_once(api, container, clock):
    """For each order a payment and the expiry job run at the same moment: the order ends either PAID or
    EXPIRED then PAID_LATE, never both and never neither."""
    from chalicelib.domain.payment_methods.trc20_transfers import Transfer
    from tests.support import build_transfer, tx_id

    orders = [json.loads(api.create_order(user_id=300 + n).body) for n in range(12)]
    clock.advance(minutes=31)
    transfers = [build_transfer(o["amount"], o["pay_to"], tx_id(f"race-{o['order_id']}"), mined_at=clock.now())
                 for o in orders]
    barrier = threading.Barrier(len(orders) + 1)
    errors = []

    def pay(body):
        barrier.wait()
        try:
            container.trc20_transfers.handle(Transfer.model_validate(body), body)
        except Exception as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    def expire():
        barrier.wait()
        container.upkeep.expire_orders()

    threads = [threading.Thread(target=pay, args=(t,)) for t in transfers] + [threading.Thread(target=expire)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert errors == []
    for order in orders:
        final = container.orders.get(order["order_id"])
        assert final.status in (OrderStatus.PAID, OrderStatus.PAID_LATE)
        assert final.paid_late == (final.status == OrderStatus.PAID_LATE)
        payment = container.payments.get(tx_id(f"race-{order['order_id']}"))
        assert payment.outcome == ("LATE_MATCHED" if final.paid_late else "MATCHED")


def test_a_lost_enqueue_is_repaired(api, container, clock, monkeypatch, calls):
    def broken_send(queue, body):
        raise ConnectionError("SQS unavailable")

    monkeypatch.setattr(container.sqs, "send", broken_send)
    order = json.loads(api.create_order().body)
    assert json.loads(api.pay(order).body)["results"][0]["outcome"] == "MATCHED"
    monkeypatch.undo()
    assert api.drain("delivery", "deliver_orders") == 0
    clock.advance(minutes=2)
    assert api.tick("repair_orders")["requeued"] == 0  # not stuck yet
    clock.advance(minutes=4)
    assert api.tick("repair_orders")["requeued"] == 1
    api.drain("delivery", "deliver_orders")
    assert container.orders.get(order["order_id"]).status == OrderStatus.DELIVERED
    assert len(calls("giftPremiumSubscription")) == 1
