"""Energy paid in Telegram Stars through the same payment-method seam as Premium: the Star price of each package
comes from the `star_prices` setting; the buyer API opens the order in XTR, the invoice names the energy, the
payment settles once and the energy is delegated; in the bot the package's Stars button asks for the address
and sends the invoice. The books reconcile in XTR (tests/e2e/conftest.py)."""
from __future__ import annotations

import json

import httpx
import pytest

from chalicelib.domain import ledger
from chalicelib.domain.orders import OrderStatus
from devstack.sandbox import create_sandbox_app
from devstack.sandbox.chat import ChatRelay, ChatUser
from devstack.sandbox.stars import pay_invoice
from devstack.tron_node.local import BUYER_ADDRESSES
from tests.e2e.test_stars_payments import charge, pre_checkout, successful_payment
from tests.telegram_updates import WEBHOOK_SECRET, ChatDriver, user_json

TO = BUYER_ADDRESSES[1]
STARS = 220                        # energy_65k_1h's default Star price
REVENUE = ledger.revenue("ENERGY_RENTAL", "XTR")


@pytest.fixture
def stars_api(api, sandbox):
    api.sandbox = sandbox.extensions["sandbox"]
    return api


def delegations_to(node, address: str = TO) -> list[dict]:
    return [value for value in node.landed_payouts(address) if value["type"] == "DelegateResourceContract"]


def test_energy_paid_in_stars_through_the_buyer_api_is_delegated_once(stars_api, container, tron_node):
    api = stars_api
    catalog = json.loads(api.client.http.get("/store/catalog", headers=api.buyer_headers()).body)
    shown = {product["product_id"]: product.get("star_price") for product in catalog["products"]}
    assert shown["energy_65k_1h"] == str(STARS) and shown["premium_3m"] == "1300"
    response = api.create_order(product_id="energy_65k_1h", payment_method="stars", address=TO)
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    assert (order["status"], order["currency"], order["amount"], order["payment_method"]) == \
        ("PENDING", "XTR", str(STARS), "stars")
    link = api.client.http.post(f"/orders/{order['order_id']}/stars-invoice", headers=api.buyer_headers())
    assert link.status_code == 200, link.body
    [made] = api.sandbox.calls("createInvoiceLink")
    assert made["status"] == 200 and made["params"]["title"] == "⚡ 65,000 energy, 1 h"
    assert TO in made["params"]["description"] and made["params"]["prices"][0]["amount"] == STARS

    assert pre_checkout(api, order, amount=STARS)["ok"] is True
    charge_id = charge(api, order, amount=STARS)
    for update_id in (2, 3):                              # a replayed update settles nothing twice
        successful_payment(api, order, charge_id, amount=STARS, update_id=update_id)
    assert container.orders.get(order["order_id"]).status == OrderStatus.PAID
    api.drain("delivery", "deliver_orders")

    done = container.orders.get(order["order_id"])
    assert done.status == OrderStatus.DELIVERED and done.details["payout_tx"] in tron_node.landed
    assert len(delegations_to(tron_node)) == 1
    assert container.ledger.balance(REVENUE) == STARS * 1_000_000


def test_a_package_without_a_star_price_is_not_sold_for_stars(api, container, tron_node):
    container.settings_store.put("star_prices", {"premium_3m": 1300})
    container.live_settings.forget()
    refused = api.create_order(product_id="energy_65k_1h", payment_method="stars", address=TO)
    assert refused.status_code == 400
    assert json.loads(refused.body)["error"]["code"] == "PAYMENT_METHOD_NOT_ACCEPTED"


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
    return ChatRelay(settings, state, httpx.MockTransport(forward))


def test_renting_energy_for_stars_in_the_bot_from_package_to_delegation(client, state, clock, container, api,
                                                                        tron_node, relay):
    ann = ChatDriver(client, state, user_json(1001, first_name="Ann", language_code="ru"), clock, pace_seconds=2)
    ann.say("/energy")
    ann.tap(ann.button(f"⭐ {STARS} Stars"))
    assert f"{STARS} Stars" in ann.last_text() and "TRON" in ann.last_text()
    ann.say(TO)

    [invoice] = state.calls("sendInvoice")
    assert invoice["status"] == 200, invoice["response"]
    params = invoice["params"]
    assert (params["chat_id"], params["currency"], params["prices"][0]["amount"]) == (1001, "XTR", STARS)
    assert params["title"] == "⚡ 65,000 энергии, 1 ч"
    order = container.orders.get(params["payload"])
    assert (order.kind, order.payment_method, order.details["to_address"]) == ("ENERGY_RENTAL", "stars", TO)

    paid = pay_invoice(relay, ChatUser(1001, "Ann", None, "ru"), params["payload"])
    assert paid["status"] == "paid"
    assert container.orders.get(order.order_id).status == OrderStatus.PAID
    api.drain("delivery", "deliver_orders")
    assert container.orders.get(order.order_id).status == OrderStatus.DELIVERED
    assert len(delegations_to(tron_node)) == 1
    assert [call for call in state.calls() if call["status"] == 400] == []
