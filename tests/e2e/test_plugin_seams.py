"""The plug-in seams, proven with a product and a payment method that exist only in this module.

A sticker pack (kind STICKER_PACK) and a voucher payment method are registered on the real container, the
way a new product module and a new payment method would register themselves, and then bought through the
real app: catalog, order, settle, the delivery worker, the buyer's answer and the buyer's notice. Nothing in
chalicelib knows either of them.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from chalicelib.domain.orders import MARK_DELIVERED, START_DELIVERY, Order, OrderStatus
from chalicelib.domain.ports.payments import PaymentRecord
from chalicelib.domain.products import (
    DELIVERY_QUEUE,
    Buyer,
    NoticeRules,
    Offer,
    OrderDraft,
    Product,
)
from chalicelib.domain.settlement import PaymentOutcome, PaymentResult
from chalicelib.domain.users import owner_for_user

STICKER_PACK = "STICKER_PACK"
PRODUCT_ID = "stickers_cats"
VOUCHER = "voucher"
BUYER_ID = 1001


# ---------------------------------------------------------------------------------------------- the product
class StickerChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack_name: StrictStr = Field(min_length=1, max_length=64)


class StickerPack(Product):
    kind = STICKER_PACK
    queue = DELIVERY_QUEUE
    notices = NoticeRules(announced=frozenset({"delivered"}))
    choice = StickerChoice

    def offers(self) -> list[Offer]:
        return [Offer(PRODUCT_ID, self.kind, 2_000_000, facts={"sticker_count": 12})]

    def draft(self, buyer: Buyer, offer: Offer, choice: BaseModel) -> OrderDraft:
        assert isinstance(choice, StickerChoice)
        return OrderDraft(kind=self.kind, owner_id=owner_for_user(buyer.user_id), product_id=offer.product_id,
                          base_micros=offer.price_micros,
                          attributes={"buyer_user_id": buyer.user_id, "notify_chat_id": buyer.user_id,
                                      "language": buyer.language, "details": {"pack_name": choice.pack_name}})

    def facts(self, order: Order) -> dict[str, Any]:
        return {"pack_name": order.details.get("pack_name")}


class StickerFulfiller:
    """Claims the paid order (the at-most-once gate), "sends" the pack, marks it delivered, tells the buyer."""

    def __init__(self, container) -> None:
        self._container = container
        self.sent: list[str] = []

    def fulfil(self, order_id: str) -> Order | None:
        orders, now = self._container.orders, self._container.clock.now()
        claimed = orders.claim(order_id, START_DELIVERY, now)
        if claimed is None:
            return None
        _, order = claimed
        self.sent.append(order_id)
        done = orders.apply(order, MARK_DELIVERED, now, delivered_at=now)
        if done is not None:
            self._container.notices.order_event(done, "delivered", StickerPack.notices)
        return done


# ---------------------------------------------------------------------------------------------- the payment method
class VoucherPayment:
    """Pay with a prepaid voucher: the order holds no slot; a redeemed voucher is the payment's evidence."""

    name = VOUCHER

    def __init__(self, container) -> None:
        self._container = container

    def open(self, draft: OrderDraft, order_id: str, now: datetime) -> Order:
        order = Order(order_id=order_id, kind=draft.kind, owner_id=draft.owner_id, status=OrderStatus.PENDING,
                      product_id=draft.product_id, amount_micros=draft.base_micros, currency=draft.currency,
                      payment_method=VOUCHER, network=None, pay_to=None, created_at=now,
                      expires_at=now + timedelta(hours=1), payable_until=now + timedelta(hours=2),
                      status_changed_at=now, **draft.attributes)
        self._container.orders.create_pending(order, self._container.settings.max_pending_orders)
        return order

    def instructions(self, order: Order) -> dict[str, Any]:
        return {"voucher": f"Send a voucher worth {order.amount_micros / 1_000_000:.2f} "
                           f"{order.currency} quoting {order.order_id}"}

    def redeem(self, order_id: str, voucher_code: str, amount_micros: int) -> PaymentResult:
        now = self._container.clock.now()
        record = PaymentRecord(transaction_id=f"voucher-{voucher_code}", received_at=now, from_address=voucher_code,
                               to_address="shop", token_contract=VOUCHER, token_symbol="", amount_micros=amount_micros,
                               block_timestamp_ms=None, confirmed=True, outcome=PaymentOutcome.RECEIVED.value,
                               method=VOUCHER)
        return self._container.settlement.settle(record, order_id, now)


# ---------------------------------------------------------------------------------------------- registration
class StickerShop:
    def __init__(self, container) -> None:
        self.fulfiller = StickerFulfiller(container)
        self.voucher = VoucherPayment(container)
        container.products.register(StickerPack())
        container.fulfilment.register(STICKER_PACK, self.fulfiller)
        container.payment_methods.register(self.voucher)


@pytest.fixture
def stickers(container) -> StickerShop:
    return StickerShop(container)


def body(response) -> dict:
    return json.loads(response.body)


def order_stickers(api, **choice) -> Any:
    return api.create_order(user_id=BUYER_ID, product_id=PRODUCT_ID, payment_method=VOUCHER, **choice)


def get_order(api, order_id: str):
    return api.client.http.get(f"/orders/{order_id}", headers=api.buyer_headers(BUYER_ID))


# ---------------------------------------------------------------------------------------------- the proof
def test_the_catalog_shows_the_registered_product(api, stickers):
    products = body(api.client.http.get("/catalog"))["products"]
    assert {"product_id": PRODUCT_ID, "sticker_count": 12, "price": "2.00", "currency": "USDT"} in products
    assert "premium_3m" in [product["product_id"] for product in products]


def test_a_sticker_pack_paid_by_voucher_is_ordered_settled_delivered_once_and_announced(api, container, stickers,
                                                                                          calls, aws):
    # Given an order for the new product, paid by the new method
    created = order_stickers(api, pack_name="cats")
    assert created.status_code == 201, created.body
    order = body(created)
    assert (order["status"], order["kind"], order["product_id"]) == ("PENDING", STICKER_PACK, PRODUCT_ID)
    assert (order["payment_method"], order["pack_name"]) == (VOUCHER, "cats")
    assert container.orders.get(order["order_id"]).details == {"pack_name": "cats"}

    # When the voucher is redeemed (twice: a replay) and the delivery queue is drained
    paid = stickers.voucher.redeem(order["order_id"], "V-123", 2_000_000)
    assert (paid.outcome, paid.order_id, paid.replayed) == (PaymentOutcome.MATCHED, order["order_id"], False)
    assert stickers.voucher.redeem(order["order_id"], "V-123", 2_000_000).replayed is True
    assert container.payments.get("voucher-V-123").method == VOUCHER
    assert api.drain("delivery", "deliver_orders") == 1

    # Then the order is delivered, by the registered fulfiller, once
    answer = get_order(api, order["order_id"])
    assert answer.status_code == 200, answer.body
    delivered = body(answer)
    assert (delivered["status"], delivered["pack_name"]) == ("DELIVERED", "cats")
    assert delivered["paid_at"] and delivered["delivered_at"]
    assert stickers.fulfiller.sent == [order["order_id"]]

    # and a duplicate message changes nothing
    aws["sqs"].send_message(QueueUrl=aws["queues"]["tgshop-test-delivery"],
                            MessageBody=json.dumps({"order_id": order["order_id"], "kind": STICKER_PACK}))
    assert api.drain("delivery", "deliver_orders") == 1
    assert stickers.fulfiller.sent == [order["order_id"]]
    assert container.orders.get(order["order_id"]).status == OrderStatus.DELIVERED

    # and the buyer heard about the delivery, once, and nothing else; no Premium was gifted
    told = [call["params"] for call in calls("sendMessage") if call["params"]["chat_id"] == BUYER_ID]
    assert len(told) == 1 and order["order_id"] in told[0]["text"]
    assert calls("giftPremiumSubscription") == [] and calls("getMyStarBalance") == []


def test_the_open_order_place_is_freed_when_a_voucher_pays(api, container, stickers):
    order = body(order_stickers(api, pack_name="cats"))
    account = container.settings.max_pending_orders
    assert account >= 1
    stickers.voucher.redeem(order["order_id"], "V-9", 2_000_000)
    for index in range(account):  # every place is free again
        assert order_stickers(api, pack_name=f"pack{index}").status_code == 201
    refused = order_stickers(api, pack_name="one-too-many")
    assert refused.status_code == 429 and body(refused)["error"]["details"] == {"limit": account}


@pytest.mark.parametrize("choice,field", [
    ({"pack_name": "cats", "colour": "red"}, "colour"),
    ({"pack_name": 42}, "pack_name"),
    ({}, "pack_name"),
])
def test_a_wrong_choice_is_400_naming_the_field_and_writes_nothing(api, aws, stickers, choice, field):
    response = order_stickers(api, **choice)
    assert response.status_code == 400, response.body
    assert body(response)["error"]["field"] == field
    assert aws["dynamodb"].scan(TableName="tgshop-test-orders", Select="COUNT")["Count"] == 0


def test_an_unregistered_payment_method_is_refused_naming_it(api, stickers):
    response = api.create_order(user_id=BUYER_ID, product_id=PRODUCT_ID, payment_method="paypal", pack_name="cats")
    assert response.status_code == 400
    error = body(response)["error"]
    assert (error["code"], error["field"]) == ("PAYMENT_METHOD_UNKNOWN", "payment_method")
    assert VOUCHER in error["message"]


def test_the_order_answer_tells_the_buyer_how_to_pay_with_the_method(api, stickers):
    """The port says a method's instructions are "shown in answers about it"."""
    order = body(order_stickers(api, pack_name="cats"))
    assert order["payment"]["voucher"].startswith("Send a voucher worth 2.00 USDT")
    assert body(get_order(api, order["order_id"]))["payment"] == order["payment"]


def test_the_delivered_notice_speaks_of_the_product_it_delivered(api, stickers, calls):
    """A sticker pack's buyer must not be told that Premium was gifted (or "None months" of anything)."""
    order = body(order_stickers(api, pack_name="cats"))
    stickers.voucher.redeem(order["order_id"], "V-7", 2_000_000)
    api.drain("delivery", "deliver_orders")

    [notice] = [call["params"]["text"] for call in calls("sendMessage") if call["params"]["chat_id"] == BUYER_ID]
    assert order["order_id"] in notice
    assert "Premium" not in notice and "None" not in notice
