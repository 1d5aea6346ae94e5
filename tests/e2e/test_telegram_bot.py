"""The Telegram bot through POST /telegram/webhook: real update shapes in, every Bot API call validated
by the sandbox, and the orders it makes paid and delivered by the real workers."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.money import format_amount
from chalicelib.domain.orders import OrderStatus
from tests.telegram_updates import (ChatDriver, callback_update, member_update, message_update, private_chat,
                                    user_json)


@pytest.fixture
def state(sandbox):
    return sandbox.extensions["sandbox"]


@pytest.fixture(autouse=True)
def every_call_is_valid(state):
    """After each test: no Bot API call the bot made was refused by the sandbox's validation
    (the method's documented parameters, HTML, lengths, keyboards, callback data sizes)."""
    yield
    refused = [(call["method"], call["response"].get("description")) for call in state.calls()
               if call["status"] == 400]
    assert refused == []


@pytest.fixture
def chat_for(client, state, clock):
    def make(user_id=1001, pace_seconds=2, **user):
        return ChatDriver(client, state, user_json(user_id, **user), clock, pace_seconds)
    return make


@pytest.fixture
def ann(chat_for):
    return chat_for(1001, first_name="Ann", username="ann_buyer")


def only_order(container, user_id=1001):
    orders = container.ordering.list_owned(f"user:{user_id}", 50, None).items
    assert len(orders) == 1, orders
    return orders[0]


def buy_for_myself(chat, months="3 months"):
    chat.say("/start")
    chat.tap(chat.button("Buy Premium"))
    chat.tap(chat.button(months))
    chat.tap(chat.button("Myself"))
    confirm = chat.button("Confirm")
    chat.tap(confirm)
    return confirm


def pay(api, order):
    return api.pay({"amount": format_amount(order.amount_micros, 3), "pay_to": order.pay_to})


def failed_calls(state):
    return [call for call in state.calls() if call["status"] != 200]


# ---------------------------------------------------------------- the webhook's door
@pytest.mark.parametrize("secret", [None, "", "wrong-secret", "test-webhook-secreT"])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_processed(ann, state, container, secret):
    update = message_update(ann.user, "/start")
    response = ann.post(update, secret=secret)
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "WEBHOOK_SECRET_INVALID"
    assert state.calls() == []
    # Not even the update's claim was taken: the same update with the right secret is handled.
    assert ann.post(update).status_code == 200
    assert len(state.calls("sendMessage")) == 1


def test_start_greets_with_the_main_menu(ann, state):
    ann.say("/start")
    reply = ann.last_reply()
    assert reply["status"] == 200
    assert "Hello, Ann!" in reply["params"]["text"]
    assert list(ann.buttons()) == ["⭐ Buy Premium", "⚡ Energy", "🔁 TRX exchange", "💰 Wallet", "📦 My orders",
                                   "🎟 Redeem a code", "❓ Help", "🌐 Language"]


def test_a_replayed_update_gets_no_second_reply(ann, state):
    update = message_update(ann.user, "/start")
    for _ in range(3):
        assert ann.post(update).status_code == 200
    assert len(state.calls("sendMessage")) == 1
    tap = callback_update(ann.user, "buy", message_id=1)
    for _ in range(2):
        assert ann.post(tap).status_code == 200
    assert len(state.calls("answerCallbackQuery")) == 1


@pytest.mark.parametrize("update", [
    {"update_id": 1, "edited_message": {"message_id": 5, "from": user_json(1001), "date": 1, "edit_date": 2,
                                        "chat": private_chat(user_json(1001)), "text": "/start"}},
    {"update_id": 2, "channel_post": {"message_id": 9, "date": 1, "text": "/start",
                                      "chat": {"id": -100123, "type": "channel", "title": "News"}}},
    {"update_id": 3, "message_reaction": {"chat": {"id": 1001, "type": "private"}, "message_id": 1, "date": 1}},
    {"update_id": 4, "brand_new_update_type": {"anything": [1, 2, 3]}},
    {"update_id": 5, "message": {"message_id": 1, "date": 1, "text": "/start", "from": user_json(1001),
                                 "chat": {"id": -4001, "type": "group", "title": "Friends"}}},
    {"update_id": 6, "callback_query": {"id": "x", "from": "not a user"}},
    {"no_update_id": True},
])
def test_updates_we_do_not_handle_are_answered_200_and_ignored(ann, state, update):
    response = ann.post(update)
    assert response.status_code == 200
    assert state.calls() == []


def test_unknown_fields_are_ignored(ann, state):
    update = message_update(ann.user, "/start", some_future_field={"x": 1})
    update["another_unknown"] = True
    ann.post(update)
    assert "Hello" in ann.last_text()


def test_a_body_that_is_not_json_is_a_400(ann):
    response = ann.client.http.post("/telegram/webhook", body=b"{not json",
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret"})
    assert response.status_code == 400


# ---------------------------------------------------------------- buying
def test_buying_for_myself_pays_delivers_and_announces_each_step(ann, state, api, container):
    buy_for_myself(ann)
    order = only_order(container)
    assert order.status == OrderStatus.PENDING and order.recipient_user_id == 1001
    payment = ann.last_reply()
    assert payment["method"] == "editMessageText"
    text = payment["params"]["text"]
    amount = format_amount(order.amount_micros, 3)
    assert f"<code>{amount}</code>" in text and f"<code>{order.pay_to}</code>" in text
    assert "TRON (TRC20)" in text and "Time left: 30 min" in text
    assert list(ann.buttons()) == ["🔄 Check payment", "✖ Cancel order"]
    assert order.notify_message_id == payment["params"]["message_id"]

    assert json.loads(pay(api, order).body)["results"][0]["outcome"] == "MATCHED"
    api.drain("delivery", "deliver_orders")  # the worker announces the payment, then gifts
    edits = [c for c in state.calls("editMessageText") if c["params"]["message_id"] == order.notify_message_id]
    assert "delivering" in edits[-2]["params"]["text"]
    assert "Payment received" in state.calls("sendMessage")[-2]["params"]["text"]
    assert container.orders.get(order.order_id).status == OrderStatus.DELIVERED
    assert "Done: 3 months" in state.calls("sendMessage")[-1]["params"]["text"]
    assert "Done: 3 months" in state.calls("editMessageText")[-1]["params"]["text"]
    assert len(state.calls("giftPremiumSubscription")) == 1
    assert failed_calls(state) == []


def test_two_fast_taps_on_confirm_make_one_order(ann, state, container):
    confirm = buy_for_myself(ann)
    message_id = ann.last_bot_message_id()
    ann.post(callback_update(ann.user, confirm, message_id=message_id))
    ann.post(callback_update(ann.user, confirm, message_id=message_id))
    only_order(container)
    assert state.calls("answerCallbackQuery")[-1]["params"]["text"].startswith("Already confirmed")


def test_a_confirmation_older_than_an_hour_is_refused(ann, state, clock, container):
    ann.say("/start")
    ann.tap(ann.button("Buy Premium"))
    ann.tap(ann.button("6 months"))
    ann.tap(ann.button("Myself"))
    clock.advance(minutes=60)
    ann.tap(ann.button("Confirm"))
    assert container.ordering.list_owned("user:1001", 10, None).items == []
    assert "expired" in state.calls("answerCallbackQuery")[-1]["params"]["text"]


def test_the_open_order_limit_is_explained_and_confirm_offered_again(ann, state, container, clock):
    for _ in range(4):
        buy_for_myself(ann)
    assert len(container.ordering.list_owned("user:1001", 10, None).items) == 3
    answer = state.calls("answerCallbackQuery")[-1]["params"]
    assert answer["show_alert"] is True and "3 orders waiting" in answer["text"]
    assert "Confirm" in " ".join(ann.buttons())


def test_buying_for_someone_shared_with_the_request_users_button(ann, state, api, container):
    ann.say("/start")
    ann.tap(ann.button("Buy Premium"))
    ann.tap(ann.button("12 months"))
    ann.tap(ann.button("Someone else"))
    keyboard = ann.last_reply()["params"]["reply_markup"]["keyboard"]
    request = keyboard[0][0]["request_users"]
    assert request["request_id"] == 12 and request["user_is_bot"] is False

    ann.share(12, {"user_id": 2002, "first_name": "Bob <the builder>", "username": "bob"})
    assert ann.replies()[-2]["params"]["reply_markup"] == {"remove_keyboard": True}
    assert "Bob &lt;the builder&gt;" in ann.last_text()
    ann.tap(ann.button("Confirm"))
    order = only_order(container)
    assert order.recipient_user_id == 2002 and order.month_count == 12
    assert "Bob &lt;the builder&gt;" in ann.last_text()

    pay(api, order)
    api.drain("delivery", "deliver_orders")
    assert state.calls("giftPremiumSubscription")[0]["params"]["user_id"] == 2002
    to_bob = [c for c in state.calls("sendMessage") if c["params"]["chat_id"] == 2002]
    assert "You received 12 months" in to_bob[-1]["params"]["text"]
    assert failed_calls(state) == []


def test_buying_for_a_known_username(ann, chat_for, state, container):
    chat_for(3003, first_name="Cleo", username="Cleo_Cat").say("/start")
    ann.say("/start")
    ann.tap(ann.button("Buy Premium"))
    ann.tap(ann.button("3 months"))
    ann.tap(ann.button("Someone else"))
    ann.say("@nobody_here")
    assert "I don't know @nobody_here yet" in ann.last_text()
    ann.say("not a username!")
    assert "doesn't look like a @username" in ann.last_text()
    ann.say("@cleo_cat")
    assert "@cleo_cat" in ann.last_text()
    ann.tap(ann.button("Confirm"))
    assert only_order(container).recipient_user_id == 3003


def test_check_payment_and_cancel_and_stale_buttons(ann, state, container):
    buy_for_myself(ann)
    order = only_order(container)
    ann.tap(f"chk:{order.order_id}")
    assert state.calls("answerCallbackQuery")[-1]["params"]["text"].startswith("No payment yet")
    ann.tap(f"cx:{order.order_id}")
    assert container.orders.get(order.order_id).status == OrderStatus.CANCELLED
    assert "was cancelled" in ann.last_text()
    ann.tap(f"cx:{order.order_id}")  # the old button again
    answer = state.calls("answerCallbackQuery")[-1]["params"]
    assert "can no longer be cancelled" in answer["text"]
    ann.tap(f"chk:{order.order_id}")
    assert state.calls("answerCallbackQuery")[-1]["params"]["text"] == "cancelled"
    ann.tap("chk:NOT-MINE")
    assert state.calls("answerCallbackQuery")[-1]["params"]["text"] == "This order was not found."
    for data in ("zzz", "ok:5:1001:abc", "mo:7", "ol:x", "lg:fr", "to:3:nobody"):
        ann.tap(data)
        assert state.calls("answerCallbackQuery")[-1]["params"]["text"] == "This button is no longer active."
    assert len(state.calls("answerCallbackQuery")) == len(
        [c for c in state.calls() if c["method"] == "answerCallbackQuery"])
    assert failed_calls(state) == []


def test_every_callback_is_answered_even_when_handling_fails(ann, state, container, monkeypatch):
    ann.say("/start")

    def broken():
        raise RuntimeError("catalog down")
    monkeypatch.setattr(container.bot._conversation._shop, "offers", broken)
    response = ann.tap(ann.button("Buy Premium"))
    assert response.status_code == 200
    answer = state.calls("answerCallbackQuery")[-1]["params"]
    assert answer["text"] == "Something went wrong. Please try again." and answer["show_alert"] is True


def test_the_expiry_edits_the_payment_message_and_announces_it(ann, state, container, clock):
    buy_for_myself(ann)
    order = only_order(container)
    clock.advance(minutes=31)
    container.upkeep.expire_orders()
    assert "expired" in state.calls("editMessageText")[-1]["params"]["text"]
    assert state.calls("editMessageText")[-1]["params"]["message_id"] == order.notify_message_id
    assert "expired before a payment" in state.calls("sendMessage")[-1]["params"]["text"]


# ---------------------------------------------------------------- my orders
def test_my_orders_five_per_page_with_details(ann, state, api, container):
    for _ in range(7):
        created = json.loads(api.create_order().body)
        api.client.http.post(f"/orders/{created['order_id']}/cancel", headers=api.buyer_headers())
    ann.say("/orders")
    first = ann.buttons()
    assert len([label for label in first if "USDT" in label]) == 5
    assert "Next »" in first and "« Previous" not in first
    ann.tap(first["Next »"])
    second = ann.buttons()
    assert len([label for label in second if "USDT" in label]) == 2
    assert "« Previous" in second and "Next »" not in second
    ann.tap(next(data for label, data in second.items() if "USDT" in label))
    assert "Status: cancelled" in ann.last_text()
    ann.tap(ann.button("Back"))
    assert "page 2" in ann.last_text()
    assert all(len(data.encode()) <= 64 for data in second.values())


def test_no_orders_yet(chat_for):
    bob = chat_for(2002)
    bob.say("/orders")
    assert bob.last_text() == "You have no orders yet."


# ---------------------------------------------------------------- redeem
class FakeRedemptions:
    def __init__(self):
        self.calls = []

    def redeem(self, user_id, code, ip):
        from chalicelib.domain.errors import Conflict, RateLimited

        self.calls.append((user_id, code, ip))
        if code == "DEAD-DEAD-DEAD-DEAD":
            raise Conflict("used up", code="CODE_USED_UP")
        if code == "BEEF-BEEF-BEEF-BEEF":
            raise RateLimited("slow down", code="RATE_LIMITED", retry_after=42)
        return {"redemption_id": "r1", "status": "PENDING", "months": 6}


@pytest.fixture
def redemptions(container):
    fake = FakeRedemptions()
    container.__dict__["redemptions"] = fake
    return fake


def test_redeem_by_command_menu_and_deep_link(ann, redemptions):
    ann.say("/redeem abcd-efgh-jkmn-pqrs")
    assert "Code accepted! 6 months" in ann.last_text()
    ann.say("/start")
    ann.tap(ann.button("Redeem a code"))
    assert "Send me your code" in ann.last_text()
    ann.say("  WXYZ-WXYZ-WXYZ-WXYZ ")
    assert "Code accepted" in ann.last_text()
    ann.say("/start redeem-ABCD-2345-ABCD-2345")
    assert "Code accepted" in ann.last_text()
    assert [code for _, code, _ in redemptions.calls] == ["ABCD-EFGH-JKMN-PQRS", "WXYZ-WXYZ-WXYZ-WXYZ",
                                                          "ABCD-2345-ABCD-2345"]
    ann.say("/redeem DEAD-DEAD-DEAD-DEAD")
    assert ann.last_text() == "This code has already been used up."
    ann.say("/redeem beef beef beef beef")
    assert "try again in 42 seconds" in ann.last_text()
    ann.say("/redeem <b>nope</b>")
    assert "not a valid code" in ann.last_text()
    assert len(redemptions.calls) == 5


def test_an_unexpected_redeem_refusal_gets_a_generic_answer(ann, container):
    from chalicelib.domain.errors import Unavailable

    class Busy:
        def redeem(self, user_id, code, ip):
            raise Unavailable("busy", code="CODE_BUSY", retry_after=1)

    container.__dict__["redemptions"] = Busy()
    ann.say("/redeem ABCD-ABCD-ABCD-ABCD")
    assert ann.last_text() == "The code could not be redeemed right now. Please try again later."


# ---------------------------------------------------------------- help, language, cancel, hints
def test_help_cancel_and_unknown_text(ann, state):
    ann.say("/help")
    assert "How it works" in ann.last_text()
    ann.say("/cancel")
    assert ann.last_text().startswith("There is nothing to cancel")
    ann.say("/redeem")
    ann.say("/cancel")
    assert ann.last_text().startswith("Cancelled.")
    ann.say("hello there")
    assert ann.last_text().startswith("I didn't understand")
    ann.say("/frobnicate")
    assert ann.last_text().startswith("I didn't understand")


def test_language_follows_telegram_then_the_users_choice(chat_for, state):
    li = chat_for(4004, first_name="李", language="zh-hans")
    li.say("/start")
    assert "你好，李！" in li.last_text()
    li.say("/language")
    li.tap(li.button("Русский"))
    assert li.last_text().startswith("Язык: русский.")
    li.say("/help")
    assert "Как это работает" in li.last_text()


def test_user_text_is_escaped_and_long_texts_fit(chat_for, state):
    tricky = chat_for(5005, first_name="<script>&amp;" + "Ж" * 100)
    tricky.say("/start")
    assert "&lt;script&gt;&amp;amp;" in tricky.last_text()
    tricky.say("😀" * 4096)
    assert tricky.last_text().startswith("I didn't understand")
    tricky.say("/start")
    tricky.tap(tricky.button("Buy Premium"))
    tricky.tap(tricky.button("3 months"))
    tricky.tap(tricky.button("Someone else"))
    tricky.say("@" + "a" * 4095)
    assert "doesn't look like a @username" in tricky.last_text()
    assert failed_calls(state) == []


# ---------------------------------------------------------------- blocking, floods
def test_a_user_who_blocks_the_bot_is_not_messaged_until_they_return(ann, state, api, container):
    buy_for_myself(ann)
    order = only_order(container)
    ann.post(member_update(ann.user, "member", "kicked"))
    assert container.users.profile(1001).blocked
    before = len(state.calls())
    pay(api, order)
    assert len(state.calls()) == before  # no edit, no announcement
    ann.post(member_update(ann.user, "kicked", "member"))
    assert not container.users.profile(1001).blocked


def test_a_403_marks_the_user_blocked_and_a_message_unmarks(ann, state, container):
    from devstack.sandbox import FaultRule

    state.add_fault(FaultRule(method="sendMessage", error_code=403))
    ann.say("/start")
    assert container.users.profile(1001).blocked
    ann.say("/help")
    assert not container.users.profile(1001).blocked


def test_a_flood_is_ignored_with_one_notice_a_minute(ann, state, clock):
    ann.pace_seconds = 0
    for _ in range(20):
        ann.say("hi")
    texts = [call["params"]["text"] for call in state.calls("sendMessage")]
    assert texts.count("You are sending messages too fast. I will ignore them for a moment.") == 1
    assert len(texts) == 8 + 1
    clock.advance(seconds=10)  # five tokens back
    for _ in range(6):
        ann.say("hi")
    texts = [call["params"]["text"] for call in state.calls("sendMessage")]
    assert len(texts) == 9 + 5
    clock.advance(seconds=60)
    for _ in range(40):
        ann.say("hi")
    texts = [call["params"]["text"] for call in state.calls("sendMessage")]
    assert texts.count("You are sending messages too fast. I will ignore them for a moment.") == 2


def test_the_flood_limit_still_answers_taps(ann, state):
    ann.pace_seconds = 0
    ann.say("/start")
    for _ in range(12):
        ann.tap("help")
    assert len(state.calls("answerCallbackQuery")) == 12
