"""Reading Telegram updates: the shapes the bot acts on, and everything else ignored."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.bot import views, wallet_views
from chalicelib.bot.limits import FloodPolicy, take
from chalicelib.bot.updates import (CALLBACK, IGNORED, MEMBER, MESSAGE, USERS_SHARED, parse_update,
                                    split_command)
from chalicelib.domain.orders import Order, OrderKind, OrderStatus
from tests.telegram_updates import (callback_update, member_update, message_update, user_json,
                                    users_shared_update)

ANN = user_json(1001, first_name="Ann", username="ann")


@pytest.mark.parametrize(("raw", "expected"), [
    ("/start", ("start", "")),
    ("/start redeem-ABCD-EFGH", ("start", "redeem-ABCD-EFGH")),
    ("/START@tgshop_bot  payload ", ("start", "payload")),
    ("/redeem   abc-def", ("redeem", "abc-def")),
    ("hello /start", (None, "hello /start")),
    ("/", (None, "/")),
    ("/привет", (None, "/привет")),
])
def test_commands_are_split_from_their_arguments(raw, expected):
    assert split_command(raw) == expected


def test_a_command_message():
    incoming = parse_update(message_update(ANN, "/start@tgshop_bot redeem-X"))
    assert (incoming.kind, incoming.command, incoming.args, incoming.chat_id) == (MESSAGE, "start", "redeem-X", 1001)
    assert incoming.user.username == "ann" and incoming.user.language_code == "en"


def test_a_callback_query():
    incoming = parse_update(callback_update(ANN, "mo:3", message_id=77))
    assert (incoming.kind, incoming.data, incoming.message_id, incoming.chat_id) == (CALLBACK, "mo:3", 77, 1001)


def test_a_callback_from_an_inline_message_has_no_message_to_edit():
    update = callback_update(ANN, "buy", message_id=1)
    del update["callback_query"]["message"]
    update["callback_query"]["inline_message_id"] = "AAAB"
    incoming = parse_update(update)
    assert incoming.kind == CALLBACK and incoming.message_id is None and incoming.chat_id == 1001


def test_users_shared():
    incoming = parse_update(users_shared_update(ANN, 6, [{"user_id": 2002, "first_name": "Bob"}, {"bad": 1}]))
    assert incoming.kind == USERS_SHARED and incoming.request_id == 6
    assert [(user.user_id, user.display_name) for user in incoming.shared] == [(2002, "Bob")]


def test_my_chat_member():
    incoming = parse_update(member_update(ANN, "member", "kicked"))
    assert (incoming.kind, incoming.member_status) == (MEMBER, "kicked")


@pytest.mark.parametrize("raw", [
    None, [], "text", {}, {"update_id": "7"}, {"update_id": True, "message": {}},
    {"update_id": 1, "message": "nope"},
    {"update_id": 1, "message": {"text": "/start", "chat": {"id": 1, "type": "private"}}},  # no sender
    {"update_id": 1, "message": {"text": "/start", "from": {"id": 1, "is_bot": True, "first_name": "B"},
                                 "chat": {"id": 1, "type": "private"}}},
    {"update_id": 1, "edited_message": {"text": "/start"}},
    {"update_id": 1, "poll": {"id": "1"}},
])
def test_everything_else_is_ignored(raw):
    assert parse_update(raw).kind == IGNORED


def test_the_flood_bucket_refills_with_time():
    policy = FloodPolicy(burst=3, per_minute=60)
    tokens, at = None, 0
    allowed = []
    for now_ms in (1000, 1000, 1000, 1000, 1500, 2000, 2001):
        taken = take(tokens, at, now_ms, policy)
        tokens, at = taken.tokens, taken.refilled_ms
        allowed.append(taken.allowed)
    assert allowed == [True, True, True, False, False, True, False]


def test_every_callback_data_fits_64_bytes_with_the_longest_values():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    order = Order(order_id="0" * 26, kind=OrderKind.PREMIUM_GIFT, owner_id="user:1", status=OrderStatus.PENDING,
                  product_id="premium_12m", amount_micros=36_999_000, pay_to="T" * 34, created_at=now,
                  expires_at=now, status_changed_at=now, buyer_user_id=2 ** 52, recipient_user_id=2 ** 52,
                  month_count=12, star_count=2500)
    markups = [views.confirmation(12, 2 ** 52, "x", 36_000_000, "zzzzzz.zzzz", "en", surcharge_cap_micros=999_000,
                                  places=3, balance_micros=balance)[1] for balance in (1, 10 ** 12)]
    markups += [wallet_views.top_up_picker([10 ** 15], 1, 10 ** 15, "zzzzzz.zzzz", "en")[1],
                wallet_views.history_page([], 10 ** 6, True, 0, "en")[1]]
    data = [button["callback_data"] for markup in markups for row in markup["inline_keyboard"] for button in row]
    assert any(item.startswith("pb:") for item in data) and any(item.startswith("td:") for item in data)
    data.append(views.order_button(order, "en", 3, 40)["callback_data"])
    data += [button["callback_data"] for row in views.payment_message(order, "ru", now, 3)[1]["inline_keyboard"]
             for button in row]
    assert max(len(item.encode()) for item in data) <= 64
    with pytest.raises(ValueError):
        views.button("x", "y" * 65)
