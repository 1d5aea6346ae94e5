"""The wallet through POST /telegram/webhook: top-ups paid by signed transfers and carried on by the real
delivery worker, notices edited into the payment message, money credited when a transfer pays nothing, and a
purchase after a top-up that can no longer be made. Every Bot API call is validated by the sandbox."""
from __future__ import annotations

import pytest

from chalicelib.domain.money import format_amount
from chalicelib.domain.orders import OrderStatus
from tests.telegram_updates import ChatDriver, user_json

OWNER = "user:1001"


@pytest.fixture
def state(sandbox):
    return sandbox.extensions["sandbox"]


@pytest.fixture(autouse=True)
def every_call_is_valid(state):
    yield
    assert [(call["method"], call["response"].get("description")) for call in state.calls()
            if call["status"] == 400] == []


@pytest.fixture
def ann(client, state, clock):
    return ChatDriver(client, state, user_json(1001, first_name="Ann"), clock, pace_seconds=2)


def balance(container) -> int:
    return container.wallets.balance(OWNER).balance_micros


def newest_order(container):
    return container.ordering.list_owned(OWNER, 1, None).items[0]


def pay(api, order, amount_micros=None):
    return api.pay({"amount": format_amount(amount_micros or order.amount_micros, 3), "pay_to": order.pay_to})


def text_of(ann, message_id) -> str:
    """What a message shows now: its newest edit, or what was sent."""
    for reply in reversed(ann.replies()):
        shown = reply["params"].get("message_id") if reply["method"] == "editMessageText" \
            else reply["response"]["result"]["message_id"]
        if shown == message_id:
            return reply["params"]["text"]
    raise AssertionError(f"no message {message_id}")


def test_a_typed_top_up_is_paid_by_a_transfer_and_its_payment_message_says_so(ann, api, container):
    ann.say("/balance")
    assert "Balance: <b>0.00 USDT</b>" in ann.last_text()
    ann.tap(ann.button("Top up"))
    ann.say("12.5")
    ann.tap(ann.button("Confirm"))
    order = newest_order(container)
    payment_message = ann.last_bot_message_id()
    assert order.kind == "WALLET_TOP_UP" and order.notify_message_id == payment_message
    assert f"<code>{format_amount(order.amount_micros, 3)}</code>" in ann.last_text()

    pay(api, order)
    api.drain("delivery", "deliver_orders")

    assert container.orders.get(order.order_id).status == OrderStatus.DELIVERED
    assert balance(container) == order.amount_micros
    topped_up = f"Your wallet was topped up by {format_amount(order.amount_micros, 3)} USDT"
    assert topped_up in text_of(ann, payment_message) and topped_up in ann.last_text()
    ann.say("/balance")
    assert f"Balance: <b>{format_amount(order.amount_micros, 2)} USDT</b>" in ann.last_text()


def test_an_expired_top_up_edits_its_payment_message(ann, api, container, clock):
    ann.say("/balance")
    ann.tap(ann.button("Top up"))
    ann.tap(ann.button("50.00 USDT"))
    payment_message = ann.last_bot_message_id()
    clock.advance(minutes=31)
    api.tick("expire_orders")
    assert text_of(ann, payment_message).startswith("⌛ Top-up <code>")
    assert "Premium" not in text_of(ann, payment_message)


def test_a_purchase_a_top_up_was_for_that_can_no_longer_be_made_leaves_the_money_in_the_wallet(
        ann, api, container, clock):
    container.wallets.adjust(OWNER, 10_000_000, "goodwill", "adjust-1")
    ann.say("/start")
    ann.tap(ann.button("Buy Premium"))
    ann.tap(ann.button("3 months"))
    ann.tap(ann.button("Myself"))
    ann.tap(ann.button("Top up the difference (5.00 USDT)"))
    top_up = newest_order(container)
    container.settings_store.put("prices", {"premium_3m": "20", "premium_6m": "22", "premium_12m": "36"})
    container.live_settings.forget()            # an operator raised the price meanwhile

    pay(api, top_up)
    api.drain("delivery", "deliver_orders")

    assert [order.kind for order in container.ordering.list_owned(OWNER, 10, None).items] == ["WALLET_TOP_UP"]
    assert balance(container) == 10_000_000 + top_up.amount_micros
    assert "The purchase it was for could not be made" in ann.last_text()


def test_a_short_transfer_is_credited_to_the_wallet_and_the_buyer_told_where_it_is(ann, api, container):
    ann.say("/start")
    ann.tap(ann.button("Buy Premium"))
    ann.tap(ann.button("3 months"))
    ann.tap(ann.button("Myself"))
    ann.tap(ann.button("Confirm"))
    order = newest_order(container)

    short = order.amount_micros - 10_000_000      # its own suffix, so it points at the order

    pay(api, order, short)

    assert balance(container) == short
    told = ann.last_text()
    assert f"{format_amount(short, 3)} USDT was credited to your wallet (/balance)" in told
    assert "operator" not in told
    ann.say("/start")
    ann.tap(ann.button("Buy Premium"))
    ann.tap(ann.button("3 months"))
    ann.tap(ann.button("Myself"))
    assert "➕ Top up the difference (10.00 USDT) and pay" in ann.buttons()


def test_the_wallet_and_its_history_in_russian(client, state, clock, container):
    boris = ChatDriver(client, state, user_json(1001, first_name="Борис", language="ru"), clock, pace_seconds=2)
    container.wallets.adjust(OWNER, 3_500_000, "компенсация", "adjust-ru")
    boris.say("/balance")
    assert "Баланс: <b>3.50 USDT</b>" in boris.last_text()
    boris.tap(boris.button("История"))
    assert "<b>+3.50 USDT</b>" in boris.last_text() and "Исправление поддержкой: компенсация" in boris.last_text()
    boris.tap(boris.button("Назад"))
    boris.tap(boris.button("Пополнить"))
    boris.say("сколько-нибудь")
    assert boris.last_text().startswith("Это не похоже на сумму пополнения")
