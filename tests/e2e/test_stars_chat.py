"""Paying with Stars in the chat: the confirmation offers Stars where the product has a Star price, the bot
sends an XTR invoice (validated by the sandbox like every Bot API call), and the payment the sandbox simulates
(pre-checkout query, then the successful payment) pays and delivers the order; a payment answered "no" at
pre-checkout moves nothing."""
from __future__ import annotations

import json

import httpx
import pytest

from chalicelib.domain.orders import OrderStatus
from devstack.sandbox import create_sandbox_app
from devstack.sandbox.chat import ChatRelay, ChatUser
from devstack.sandbox.stars import pay_invoice
from tests.telegram_updates import WEBHOOK_SECRET, ChatDriver, user_json


@pytest.fixture
def state(sandbox):
    return sandbox.extensions["sandbox"]


@pytest.fixture
def relay(client, state):
    """The sandbox's own payment simulation, posting its updates into the app under test."""
    def forward(request: httpx.Request) -> httpx.Response:
        answered = client.http.post("/telegram/webhook", body=request.content, headers=dict(request.headers))
        return httpx.Response(answered.status_code, content=answered.body)

    settings = create_sandbox_app(webhook_target="http://app/telegram/webhook", webhook_secret=WEBHOOK_SECRET)
    return ChatRelay(settings, state, httpx.MockTransport(forward))   # the app's own sandbox state


def test_the_confirmation_offers_stars_and_the_invoice_pays_and_delivers(client, state, clock, container, api,
                                                                         relay):
    ann = ChatDriver(client, state, user_json(1001, first_name="Ann"), clock, pace_seconds=2)
    ann.say("/start")
    ann.tap(ann.button("Buy Premium"))
    ann.tap(ann.button("3 months"))
    ann.tap(ann.button("Myself"))
    ann.tap(ann.button("Pay with Stars (1300 Stars)"))

    [invoice] = state.calls("sendInvoice")
    assert invoice["status"] == 200, invoice["response"]
    params = invoice["params"]
    assert (params["chat_id"], params["currency"], params["prices"][0]["amount"]) == (1001, "XTR", 1300)
    order = container.orders.get(params["payload"])
    assert (order.status, order.payment_method, order.currency) == (OrderStatus.PENDING, "stars", "XTR")

    balance = state.star_balance
    paid = pay_invoice(relay, ChatUser(1001, "Ann", None, "en"), params["payload"])
    assert paid["status"] == "paid"
    assert state.star_balance == balance + 1300
    [answer] = state.calls("answerPreCheckoutQuery")
    assert answer["params"]["ok"] is True
    assert container.orders.get(order.order_id).status == OrderStatus.PAID
    assert api.drain("delivery", "deliver_orders") == 1
    assert container.orders.get(order.order_id).status == OrderStatus.DELIVERED


def test_a_payment_refused_at_pre_checkout_moves_nothing(client, state, clock, container, api, relay):
    order = api.client.http.post("/orders", headers=api.buyer_headers(1001),
                                 body='{"product_id": "premium_3m", "payment_method": "stars"}')
    order_id = json.loads(order.body)["order_id"]
    link = api.client.http.post(f"/orders/{order_id}/stars-invoice", headers=api.buyer_headers(1001))
    invoice_link = json.loads(link.body)["invoice_link"]
    api.client.http.post(f"/orders/{order_id}/cancel", headers=api.buyer_headers(1001))
    balance = state.star_balance

    refused = pay_invoice(relay, ChatUser(1001, "Ann", None, "en"), invoice_link)

    assert refused == {"status": "failed", "error_message": "This order can no longer be paid. Please order again."}
    assert state.star_balance == balance and state.calls("refundStarPayment") == []
    assert container.orders.get(order_id).status == OrderStatus.CANCELLED


def test_the_main_menu_opens_the_storefront_when_it_has_a_url(client, state, clock, container):
    container.settings = container.settings.model_copy(update={"miniapp_url": "https://shop.example/api/store"})
    ann = ChatDriver(client, state, user_json(1001, first_name="Ann", language="zh"), clock, pace_seconds=2)
    ann.say("/start")
    [greeting] = state.calls("sendMessage")
    assert greeting["status"] == 200
    first_row = greeting["params"]["reply_markup"]["inline_keyboard"][0]
    assert first_row == [{"text": "🛍 打开商店", "web_app": {"url": "https://shop.example/api/store"}}]
