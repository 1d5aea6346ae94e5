"""The wallet in the bot: balance, history, topping up, and paying Premium from the balance. The conversation
drives the real facades, ordering service, products, payment methods and wallet service over in-memory stores;
money reaches a wallet as an operator's adjustment (the payment side is the end-to-end tests' part)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bot.conversation import Conversation
from chalicelib.bot.shop import ShopFacade, WalletFacade
from chalicelib.bot.turn import AWAIT_TOP_UP
from chalicelib.bot.updates import parse_update
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.payment_methods import PaymentMethodRegistry
from chalicelib.domain.payment_methods.balance import WalletBalance
from chalicelib.domain.payment_methods.trc20 import Trc20UniqueAmount, UniqueAmountPolicy
from chalicelib.domain.ports.bot import ChatState
from chalicelib.domain.products import ProductRegistry
from chalicelib.domain.products.premium import PremiumGift
from chalicelib.domain.products.wallet_top_up import WalletTopUp
from chalicelib.domain.wallet import WalletService
from chalicelib.i18n import LANGUAGES, text
from devstack.sandbox import parse_html_text
from tests.fakes import (Counted, FixedClock, InMemoryOrderStore, InMemoryPaymentSlotStore, InMemorySettingsStore,
                         RecordingQueue, SequentialIds)
from tests.telegram_updates import callback_update, message_update, user_json

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADDRESS = "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt"
ANN = user_json(1001, first_name="Ann")
OWNER = "user:1001"
USDT = 1_000_000


class Directory:
    def find_by_username(self, username):
        return None


class Shop:
    """The bot over the real services: Premium and top-ups, paid by a unique transfer or from the wallet."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        slots = InMemoryPaymentSlotStore()
        self.orders = InMemoryOrderStore(slots)
        self.queue = RecordingQueue()
        counted = Counted()
        live = LiveSettings(InMemorySettingsStore(), self.clock)
        premium, top_up = PremiumGift(live), WalletTopUp(live)
        products = ProductRegistry((premium, top_up))
        policy = UniqueAmountPolicy(addresses=lambda: (ADDRESS,), suffix_decimals=3, surcharge_cap_micros=100_000,
                                    expiry=timedelta(minutes=30), monitoring_window=timedelta(minutes=60),
                                    max_pending=3)
        methods = PaymentMethodRegistry((
            Trc20UniqueAmount(self.orders, slots, policy, counted.append),
            WalletBalance(self.orders, self.orders.ledger, self.queue, products.settles_to, counted.append)))
        ordering = OrderingService(self.orders, products, methods, self.clock, SequentialIds("ORDER"), counted.append)
        self.wallets = WalletService(self.orders.ledger, self.clock)
        claimed: set[str] = set()

        def once(key, ttl):
            fresh = key not in claimed
            claimed.add(key)
            return fresh

        self.bot = Conversation(ShopFacade(premium, ordering, self.orders, products),
                                WalletFacade(self.wallets, top_up, ordering), Directory(), None, once,
                                amount_places=3, surcharge_cap_micros=100_000)
        self.state = ChatState(1001, language="en")
        self._adjustments = 0

    def credit(self, usdt: str, reason: str = "welcome bonus") -> None:
        self._adjustments += 1
        amount = int(float(usdt) * USDT)
        self.wallets.adjust(OWNER, amount, reason, f"adjust-{self._adjustments}")

    def say(self, words: str):
        return self.bot.handle(parse_update(message_update(ANN, words)), self.state, self.clock.now())

    def tap(self, data: str, message_id: int = 5):
        return self.bot.handle(parse_update(callback_update(ANN, data, message_id=message_id)), self.state,
                               self.clock.now())

    def owned(self):
        return sorted(self.orders.orders.values(), key=lambda order: order.order_id)


def shown(calls) -> dict:
    """The params of the message a reply shows (the edit after a tapped button's answer, or the message)."""
    return next(call.params for call in calls if call.method in ("editMessageText", "sendMessage"))


def buttons(params: dict) -> dict[str, str]:
    return {button["text"]: button["callback_data"] for row in params["reply_markup"]["inline_keyboard"]
            for button in row}


def answer(calls) -> dict:
    return calls[0].params


@pytest.fixture
def shop() -> Shop:
    return Shop()


# ---------------------------------------------------------------------------------------------- the wallet screen
def test_the_menu_has_a_wallet_button_and_balance_opens_the_wallet(shop):
    shop.credit("20.5")
    menu = buttons(shown(shop.say("/start")))
    assert menu["💰 Wallet"] == "wl"
    by_command = shown(shop.say("/balance"))
    by_button = shown(shop.tap("wl"))
    assert by_command["text"] == by_button["text"]
    assert "Balance: <b>20.50 USDT</b>" in by_button["text"]
    assert list(buttons(by_button)) == ["➕ Top up", "📜 History", "« Back"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_wallet_speaks_the_users_language(shop, lang):
    shop.state.language = lang
    params = shown(shop.tap("wl"))
    assert params["text"] == text(lang, "wallet.title", balance="0.00")
    assert text(lang, "button.top_up") in buttons(params)
    parse_html_text(params["text"])


# ---------------------------------------------------------------------------------------------- history
def test_history_is_newest_first_ten_a_page_with_more_and_newer(shop):
    for number in range(1, 12):
        shop.credit(str(number), reason=f"bonus {number}")
        shop.clock.advance(minutes=1)
    pay = buttons(shown(shop.tap("to:3:me")))["💰 Pay with balance (15.00 USDT)"]
    shop.tap(pay)
    first = shown(shop.tap("wh:0"))
    lines = first["text"].split("\n\n")
    assert lines[0] == ("📜 <b>Wallet history</b> · balance <b>51.00 USDT</b>\n"
                        "Page 1, newest first, times in UTC")
    assert len(lines) == 11   # the title and ten lines
    assert lines[1] == "<b>−15.00 USDT</b> · 2026-11-25 12:11\nOrder <code>…ER0001</code> paid from the wallet"
    assert lines[2] == "<b>+11.00 USDT</b> · 2026-11-25 12:10\nCorrection by support: bonus 11"
    assert list(buttons(first)) == ["More »", "« Back"]
    second = shown(shop.tap(buttons(first)["More »"]))
    assert second["text"].split("\n\n")[1:] == [
        "<b>+2.00 USDT</b> · 2026-11-25 12:01\nCorrection by support: bonus 2",
        "<b>+1.00 USDT</b> · 2026-11-25 12:00\nCorrection by support: bonus 1"]
    assert list(buttons(second)) == ["« Newer", "« Back"]


def test_an_empty_history_says_so_and_an_old_page_button_shows_the_first_page(shop):
    assert shown(shop.tap("wh:0"))["text"] == "Nothing has moved in your wallet yet."
    shop.credit("1")
    calls = shop.tap("wh:3")
    assert answer(calls)["text"] == "This button is no longer active."
    assert "+1.00 USDT" in shown(calls)["text"]


def test_what_an_operator_wrote_is_escaped_in_the_history(shop):
    shop.credit("1", reason="<b>goodwill</b>")
    assert "Correction by support: &lt;b&gt;goodwill&lt;/b&gt;" in shown(shop.tap("wh:0"))["text"]


# ---------------------------------------------------------------------------------------------- topping up
def test_a_preset_amount_places_one_top_up_and_shows_its_payment_message(shop):
    picker = shown(shop.tap("tu"))
    assert shop.state.step == AWAIT_TOP_UP
    presets = buttons(picker)
    assert list(presets) == ["10.00 USDT", "25.00 USDT", "50.00 USDT", "100.00 USDT", "« Back"]
    assert "from 1.00 to 5000.00 USDT" in picker["text"]
    payment = shown(shop.tap(presets["25.00 USDT"], message_id=8))
    again = shop.tap(presets["10.00 USDT"], message_id=8)
    [order] = shop.owned()
    assert order.kind == "WALLET_TOP_UP" and order.status == OrderStatus.PENDING
    assert order.amount_micros - order.surcharge_micros == 25 * USDT and order.notify_message_id == 8
    assert payment["text"].startswith(f"🧾 Top-up <code>{order.order_id}</code>\n25.000 USDT for your wallet\n")
    assert f"<code>{order.amount_micros / USDT:.3f}</code>" in payment["text"] and ADDRESS in payment["text"]
    assert "Time left: 30 min" in payment["text"]
    assert answer(again)["text"] == "Already confirmed: one order per confirmation."   # one top-up per screen
    assert shop.state.step is None


@pytest.mark.parametrize(("typed", "reply"), [
    ("lots", "That is not an amount I can top up. Send a number such as 25 or 12.50 (at most two decimals)."),
    ("12.345", "That is not an amount I can top up. Send a number such as 25 or 12.50 (at most two decimals)."),
    ("٣", "That is not an amount I can top up. Send a number such as 25 or 12.50 (at most two decimals)."),
    ("0.50", "A top-up must be from 1.00 to 5000.00 USDT."),
    ("5000.01", "A top-up must be from 1.00 to 5000.00 USDT."),
])
def test_a_typed_amount_that_cannot_be_topped_up_is_explained_and_the_bot_keeps_waiting(shop, typed, reply):
    shop.tap("tu")
    assert shown(shop.say(typed))["text"] == reply
    assert shop.state.step == AWAIT_TOP_UP and shop.owned() == []


def test_a_typed_amount_is_confirmed_with_a_button_that_places_the_top_up(shop):
    shop.tap("tu")
    confirmation = shown(shop.say("12,50 usdt"))
    assert confirmation["text"].startswith("<b>Please confirm</b>\nTop up your wallet by 12.50 USDT")
    assert shop.state.step is None
    confirm = buttons(confirmation)["✅ Confirm"]
    assert confirm.startswith("ta:1250:")
    shop.tap(confirm, message_id=9)
    [order] = shop.owned()
    assert order.amount_micros - order.surcharge_micros == 12_500_000 and order.notify_message_id == 9


def test_a_forged_top_up_button_is_checked_by_the_product(shop):
    calls = shop.tap("ta:999999999:" + buttons(shown(shop.tap("tu")))["10.00 USDT"].rsplit(":", 1)[1])
    assert answer(calls) == {"callback_query_id": answer(calls)["callback_query_id"],
                             "text": "A top-up must be from 1.00 to 5000.00 USDT.", "show_alert": True}
    assert shop.owned() == [] and "Your wallet" in shown(calls)["text"]


# ---------------------------------------------------------------------------------------------- paying Premium
def test_without_a_balance_the_confirmation_offers_only_the_transfer(shop):
    assert [label for label in buttons(shown(shop.tap("to:3:me")))] == ["✅ Confirm", "Cancel"]


def test_a_wallet_that_holds_the_price_pays_at_once(shop):
    shop.credit("20")
    confirmation = shown(shop.tap("to:3:me"))
    assert "Your wallet holds 20.00 USDT: pay from it at once" in confirmation["text"]
    pay = buttons(confirmation)["💰 Pay with balance (15.00 USDT)"]
    calls = shop.tap(pay, message_id=6)
    [order] = shop.owned()
    assert order.status == OrderStatus.PAID and order.payment_method == "balance" and order.notify_message_id == 6
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    assert answer(calls)["text"] == "Paid from your wallet."
    assert shown(calls)["text"] == (f"✅ Order <code>{order.order_id}</code> is paid from your wallet: 15.00 USDT.\n"
                                    "3 months of Telegram Premium for you are on their way.\n"
                                    "Left in your wallet: 5.00 USDT.")
    assert answer(shop.tap(pay))["text"] == "Already confirmed: one order per confirmation."
    assert shop.wallets.balance(OWNER).balance_micros == 5 * USDT


def test_a_short_wallet_offers_a_top_up_of_the_difference_that_buys_the_same_premium(shop):
    shop.credit("7.003")
    confirmation = shown(shop.tap("to:3:me"))
    assert "Your wallet holds 7.003 USDT, 8.00 USDT short of the price" in confirmation["text"]
    difference = buttons(confirmation)["➕ Top up the difference (8.00 USDT) and pay"]
    payment = shown(shop.tap(difference, message_id=7))
    [top_up] = shop.owned()
    assert top_up.kind == "WALLET_TOP_UP" and top_up.amount_micros - top_up.surcharge_micros == 8 * USDT
    assert top_up.details == {"then_buy": {"product_id": "premium_3m", "choice": {"recipient_user_id": 1001}}}
    assert top_up.notify_message_id == 7
    assert "8.000 USDT for your wallet\nOnce it arrives, the purchase you chose is paid from your wallet" \
        in payment["text"]


def test_a_wallet_spent_since_the_confirmation_is_told_and_offered_the_difference(shop):
    shop.credit("20")
    pay = buttons(shown(shop.tap("to:3:me")))["💰 Pay with balance (15.00 USDT)"]
    shop.wallets.adjust(OWNER, -10 * USDT, "spent elsewhere", "spend-1")
    shop.clock.advance(seconds=5)
    calls = shop.tap(pay)
    assert answer(calls)["text"] == "Your wallet no longer holds the price." and answer(calls)["show_alert"]
    assert shop.owned() == []
    assert "➕ Top up the difference (5.00 USDT) and pay" in buttons(shown(calls))


def test_a_wallet_filled_since_the_confirmation_pays_instead_of_topping_up(shop):
    shop.credit("10")
    difference = buttons(shown(shop.tap("to:3:me")))["➕ Top up the difference (5.00 USDT) and pay"]
    shop.credit("10")
    shop.clock.advance(seconds=5)
    calls = shop.tap(difference)
    assert answer(calls)["text"] == "Your wallet holds the price now: pay with the balance below."
    assert shop.owned() == [] and "💰 Pay with balance (15.00 USDT)" in buttons(shown(calls))


def test_an_order_list_names_a_top_up_as_one(shop):
    shop.tap(buttons(shown(shop.tap("tu")))["50.00 USDT"])
    [order] = shop.owned()
    listed = buttons(shown(shop.say("/orders")))
    assert f"💰 Top-up · {order.amount_micros / USDT:.3f} USDT · waiting for payment" in listed
    details = shown(shop.tap(f"od:{order.order_id}:0"))
    assert details["text"].startswith(f"Top-up <code>{order.order_id}</code>\nStatus: waiting for payment")
