"""What the buyer reads about paying: the exact surcharge, the most it can be, and what happens to money
that did not pay the order. In every language, and nothing the shop does not do."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bot import views
from chalicelib.domain.notices import Notice
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.i18n import LANGUAGES, catalog
from devstack.sandbox import parse_html_text

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADDRESS = "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt"


def an_order(**changes) -> Order:
    values = dict(order_id="ORD1", kind="PREMIUM_GIFT", owner_id="user:1001", status=OrderStatus.PENDING,
                  product_id="premium_3m", amount_micros=15_003_000, surcharge_micros=3_000, pay_to=ADDRESS,
                  created_at=NOW, expires_at=NOW + timedelta(minutes=30), payable_until=NOW + timedelta(minutes=90),
                  status_changed_at=NOW, buyer_user_id=1001, recipient_user_id=1001, month_count=3)
    return Order(**{**values, **changes})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_payment_message_shows_the_price_and_the_exact_surcharge(lang):
    body, _ = views.payment_message(an_order(), lang, NOW, 3)
    parse_html_text(body)
    assert "<code>15.003</code>" in body and "15.000" in body and "0.003" in body


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_confirmation_names_the_most_the_identifying_amount_can_add(lang):
    body, _ = views.confirmation(3, 1001, "you", 15_000_000, "stamp", lang, surcharge_cap_micros=50_000, places=3)
    parse_html_text(body)
    assert "0.050" in body and "15.00" in body


def test_no_text_speaks_of_a_few_extra_thousandths_or_a_match_for_a_while():
    english = " ".join(catalog("en").values())
    assert "few extra thousandths" not in english and "for a while" not in english


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("event,paid,shown", [
    ("underpaid", 14_003_000, ["14.003", "1.000", "15.003"]),    # the whole transfer, credited; the order waits
    ("overpaid", 7_000_000, ["7.000", "15.003"]),                # the order is paid; its excess is credited
    ("too_late", 15_003_000, ["15.003"]),
    ("duplicate", 15_003_000, ["15.003"]),
    ("refunded", 15_003_000, ["15.003"]),
    ("follow_on_refused", 8_001_000, ["8.001"]),
])
def test_money_credited_to_the_wallet_is_explained_to_the_buyer(lang, event, paid, shown):
    order = an_order(status=OrderStatus.PAID if event in ("overpaid", "duplicate") else OrderStatus.PENDING)
    method, params = views.render_notice(Notice(1001, order, event, lang, paid_micros=paid), 3)
    assert method == "sendMessage"
    parse_html_text(params["text"])
    assert all(amount in params["text"] for amount in shown) and "ORD1" in params["text"]
    assert "/balance" in params["text"]   # where the money is now


def test_no_text_says_odd_money_waits_for_an_operator():
    """Money that paid nothing is credited to the buyer's wallet at once; no text says it waits for review."""
    english = catalog("en")
    for key in ("event.underpaid", "event.overpaid", "event.duplicate", "event.too_late", "pay.expired_hint"):
        assert "operator" not in english[key] and "wallet" in english[key], key


def a_top_up(**changes) -> Order:
    return an_order(kind="WALLET_TOP_UP", product_id="wallet_top_up", amount_micros=25_004_000,
                    surcharge_micros=4_000, recipient_user_id=None, month_count=None, **changes)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_top_up_has_its_own_payment_message_and_notices(lang):
    body, _ = views.payment_message(a_top_up(), lang, NOW, 3, texts="top_up")
    parse_html_text(body)
    assert "<code>25.004</code>" in body and "25.000" in body and "0.004" in body and ADDRESS in body
    assert body != views.payment_message(a_top_up(), lang, NOW, 3)[0]   # not Premium's wording
    delivered = a_top_up(status=OrderStatus.DELIVERED, paid_micros=25_004_000)
    _, announced = views.render_notice(Notice(1001, delivered, "delivered", lang, texts="top_up"), 3)
    method, edited = views.render_notice(Notice(1001, delivered, "status", lang, edit_message_id=9,
                                                texts="top_up"), 3)
    assert method == "editMessageText" and edited["text"] == announced["text"]
    assert "25.004" in announced["text"] and "Premium" not in announced["text"]
    _, expired = views.render_notice(Notice(1001, a_top_up(status=OrderStatus.EXPIRED), "expired", lang,
                                            texts="top_up"), 3)
    assert expired["text"].count("25.004") >= 2 and "Premium" not in expired["text"]


def test_a_top_up_that_buys_something_says_so_on_its_payment_message():
    then_buy = {"then_buy": {"product_id": "premium_3m", "choice": {"recipient_user_id": 1001}}}
    body, _ = views.payment_message(a_top_up(details=then_buy), "en", NOW, 3, texts="top_up")
    assert "25.000 USDT for your wallet\nOnce it arrives, the purchase you chose is paid from your wallet" in body


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_expiry_notice_names_the_exact_amount_that_still_counts(lang):
    _, params = views.render_notice(Notice(1001, an_order(status=OrderStatus.EXPIRED), "expired", lang), 3)
    assert params["text"].count("15.003") >= 2
