"""The conversation without AWS or HTTP: hand-written fakes behind its ports, Bot API calls as data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.bot.conversation import Conversation
from chalicelib.bot.turn import AWAIT_CODE, AWAIT_RECIPIENT
from chalicelib.bot.updates import parse_update
from chalicelib.domain.errors import RateLimited
from chalicelib.domain.orders import Order, OrderKind, OrderStatus
from chalicelib.domain.ports.bot import ChatState
from chalicelib.domain.ports.common import Page
from chalicelib.domain.products import Offer
from chalicelib.domain.products.premium import PREMIUM_TERMS as PRODUCTS
from tests.telegram_updates import callback_update, message_update, user_json, users_shared_update

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
ANN = user_json(1001, first_name="Ann")


class FakeShop:
    def __init__(self):
        self.orders: list[Order] = []
        self.remembered: dict[str, int] = {}
        self.refuse: Exception | None = None

    def offers(self):
        return [self.offer(product_id) for product_id in PRODUCTS]

    def offer(self, product_id):
        return Offer(product_id, "PREMIUM_GIFT", 15_000_000, facts={"month_count": PRODUCTS[product_id].month_count})

    def create_premium(self, buyer, product_id, recipient, language):
        if self.refuse:
            raise self.refuse
        order = Order(order_id=f"ORDER{len(self.orders)}", kind=OrderKind.PREMIUM_GIFT, owner_id=f"user:{buyer}",
                      status=OrderStatus.PENDING, product_id=product_id, amount_micros=15_123_000,
                      pay_to="TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt", created_at=NOW,
                      expires_at=NOW + timedelta(minutes=30), status_changed_at=NOW, buyer_user_id=buyer,
                      recipient_user_id=recipient, month_count=PRODUCTS[product_id].month_count,
                      language=language)
        self.orders.append(order)
        return order

    def get_owned(self, order_id, owner):
        return next(order for order in self.orders if order.order_id == order_id)

    def list_owned(self, owner, limit, cursor):
        return Page(self.orders[:limit], None)

    def cancel(self, order_id, owner):
        raise NotImplementedError

    def remember_message(self, order_id, message_id):
        self.remembered[order_id] = message_id

    def texts_of(self, order):
        return "premium"

    def star_price(self, product_id):
        return None       # paying in Stars is tested in tests/e2e/test_stars_chat.py


class EmptyWallet:
    """A buyer whose wallet never held anything: the confirmation offers no balance (see test_bot_wallet.py)."""

    def balance(self, owner_id):
        return 0


class FakeDirectory:
    def __init__(self, usernames=None):
        self.usernames = usernames or {}
        self.languages = {}

    def find_by_username(self, username):
        return self.usernames.get(username.lower())

    def set_language(self, user_id, language):
        self.languages[user_id] = language


@pytest.fixture
def shop():
    return FakeShop()


@pytest.fixture
def directory():
    return FakeDirectory({"cleo_cat": 3003})


@pytest.fixture
def bot(shop, directory):
    claimed = set()

    def once(key, ttl):
        if key in claimed:
            return False
        claimed.add(key)
        return True

    return Conversation(shop, EmptyWallet(), directory, None, once, amount_places=3, surcharge_cap_micros=100_000)


def handle(bot, update, state, now=NOW):
    return bot.handle(parse_update(update), state, now)


def test_start_is_one_message_with_the_menu(bot):
    calls = handle(bot, message_update(ANN, "/start"), ChatState(1001, language="en"))
    assert [call.method for call in calls] == ["sendMessage"]
    assert calls[0].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "buy"


def test_a_callback_is_answered_first_and_exactly_once(bot):
    calls = handle(bot, callback_update(ANN, "mo:6", message_id=5), ChatState(1001, language="en"))
    assert [call.method for call in calls] == ["answerCallbackQuery", "editMessageText"]
    assert calls[1].fallback.method == "sendMessage"  # a message that cannot be edited is sent anew


def test_confirm_orders_once_and_remembers_the_payment_message(bot, shop):
    state = ChatState(1001, language="en")
    confirmation = handle(bot, callback_update(ANN, "to:3:me", message_id=5), state)[1]
    confirm = confirmation.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    first = handle(bot, callback_update(ANN, confirm, message_id=5), state)
    second = handle(bot, callback_update(ANN, confirm, message_id=5), state)
    assert len(shop.orders) == 1 and shop.remembered == {"ORDER0": 5}
    assert "<code>15.123</code>" in first[1].params["text"]
    assert [call.method for call in second] == ["answerCallbackQuery"]


def test_a_refused_order_offers_a_fresh_confirmation(bot, shop):
    state = ChatState(1001, language="en")
    confirm = handle(bot, callback_update(ANN, "to:3:me", message_id=5), state)[1] \
        .params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    shop.refuse = RateLimited("at most 3 orders may wait for payment at once", code="TOO_MANY_OPEN_ORDERS",
                              details={"limit": 3})
    calls = handle(bot, callback_update(ANN, confirm, message_id=5), state)
    again = calls[1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert calls[0].params["show_alert"] is True and "3 orders" in calls[0].params["text"]
    shop.refuse = None
    later = NOW + timedelta(seconds=5)
    handle(bot, callback_update(ANN, again, message_id=5), state, later)
    assert len(shop.orders) == 1


def test_someone_else_by_username_or_shared_user(bot, shop):
    state = ChatState(1001, language="en")
    handle(bot, callback_update(ANN, "to:12:other", message_id=5), state)
    assert state.step == AWAIT_RECIPIENT and state.data["months"] == 12
    calls = handle(bot, message_update(ANN, "@Cleo_Cat"), state)
    assert state.step is None
    assert calls[0].params["reply_markup"] == {"remove_keyboard": True}
    assert "ok:12:3003:" in calls[1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    shared = handle(bot, users_shared_update(ANN, 6, [{"user_id": 2002, "first_name": "Bob"}]), state)
    assert "ok:6:2002:" in shared[1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]


def test_a_waiting_step_expires_after_an_hour(bot):
    state = ChatState(1001, language="en", step=AWAIT_CODE, step_at=int(NOW.timestamp()))
    calls = handle(bot, message_update(ANN, "ABCD-ABCD-ABCD-ABCD"), state, NOW + timedelta(minutes=61))
    assert calls[0].params["text"].startswith("I didn't understand")


def test_language_choice_is_saved_and_used_at_once(bot, directory):
    state = ChatState(1001, language="en")
    calls = handle(bot, callback_update(ANN, "lg:zh", message_id=5), state)
    assert state.language == "zh" and directory.languages == {1001: "zh"}
    assert calls[0].params["text"] == "语言已设置为：中文。"
