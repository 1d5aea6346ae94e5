"""Energy and the TRX exchange in the bot, through POST /telegram/webhook: /energy and the menu's buttons,
the typed address checked (a bad one asked again, one never activated refused), the payment message, and
after the transfer and the worker the notice with the on-chain transaction id; in English, Chinese and
Russian. Every Bot API call is validated by the sandbox."""
from __future__ import annotations

import pytest

from chalicelib.domain.money import format_amount
from chalicelib.domain.orders import OrderStatus
from devstack.tron_node.local import BUYER_ADDRESSES
from tests.telegram_updates import ChatDriver, user_json


@pytest.fixture
def state(sandbox):
    return sandbox.extensions["sandbox"]


@pytest.fixture(autouse=True)
def every_call_is_valid(state):
    yield
    assert [(call["method"], call["response"].get("description")) for call in state.calls()
            if call["status"] == 400] == []


def chat(client, state, clock, language="en", user_id=1001):
    return ChatDriver(client, state, user_json(user_id, first_name="Ann", language_code=language), clock, 2)


def only_order(container, user_id=1001):
    orders = container.ordering.list_owned(f"user:{user_id}", 50, None).items
    assert len(orders) == 1, orders
    return orders[0]


def texts(state, chat_id=1001) -> list[str]:
    return [call["params"].get("text", "") for call in state.calls()
            if call["method"] in ("sendMessage", "editMessageText") and call["params"].get("chat_id") == chat_id]


def test_renting_energy_in_the_bot_from_command_to_delegation(client, state, clock, api, container, tron_node):
    ann = chat(client, state, clock)
    ann.say("/energy")
    assert "Energy rental" in ann.last_text()
    ann.tap(ann.button("65,000 energy · 1 h · 2.50 USDT"))
    assert "Send the TRON address" in ann.last_text()
    ann.say("not an address")
    assert "not a valid TRON address" in ann.last_text()
    ann.say(BUYER_ADDRESSES[1])
    order = only_order(container)
    assert order.kind == "ENERGY_RENTAL" and order.details["to_address"] == BUYER_ADDRESSES[1]
    payment = ann.last_text()
    assert "65,000 energy for 1 h" in payment and format_amount(order.amount_micros, 3) in payment
    api.pay({"amount": format_amount(order.amount_micros, 3), "pay_to": order.pay_to})
    api.drain("delivery", "deliver_orders")
    done = container.orders.get(order.order_id)
    assert done.status == OrderStatus.DELIVERED
    assert any(done.details["payout_tx"] in text and "energy is on" in text for text in texts(state))


def test_an_address_never_activated_is_refused_in_the_bot(client, state, clock, container, tron_node):
    ann = chat(client, state, clock)
    ann.say("/energy")
    ann.tap(ann.button("65,000 energy · 1 h · 2.50 USDT"))
    ann.say("TLsV52sRDL79HXGGm9yzwKibb6BeruhUzy")
    assert "not activated on TRON" in ann.last_text()
    assert container.ordering.list_owned("user:1001", 50, None).items == []


@pytest.mark.parametrize(("language", "menu", "sent"), [("en", "🔁 TRX exchange", "TRX sent to"),
                                                        ("zh", "🔁 TRX 兑换", "已发送至"),
                                                        ("ru", "🔁 Обмен на TRX", "отправлено на")])
def test_exchanging_trx_from_the_menu_shows_the_transaction(client, state, clock, api, container, tron_node,
                                                            language, menu, sent):
    ann = chat(client, state, clock, language)
    ann.say("/start")
    ann.tap(ann.button(menu))
    ann.tap(ann.button("50 TRX · 12.88 USDT"))
    ann.say(BUYER_ADDRESSES[0])
    order = only_order(container)
    assert order.details["trx_sun"] == 50_000_000
    api.pay({"amount": format_amount(order.amount_micros, 3), "pay_to": order.pay_to})
    api.drain("delivery", "deliver_orders")
    done = container.orders.get(order.order_id)
    assert done.status == OrderStatus.DELIVERED
    assert any(done.details["payout_tx"] in text and sent in text for text in texts(state))
    ann.say("/orders")
    ann.tap(ann.button("🔁 50 TRX"))
    assert done.details["payout_tx"] in ann.last_text()
