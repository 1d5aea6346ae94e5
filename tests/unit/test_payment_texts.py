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
    ("underpaid", 14_003_000, ["14.003", "1.000", "15.003"]),
    ("overpaid", 22_003_000, ["22.003", "15.003"]),
    ("duplicate", 15_003_000, ["15.003"]),
])
def test_money_that_paid_nothing_is_explained_to_the_buyer(lang, event, paid, shown):
    order = an_order(status=OrderStatus.PAID if event == "duplicate" else OrderStatus.PENDING)
    method, params = views.render_notice(Notice(1001, order, event, lang, paid_micros=paid), 3)
    assert method == "sendMessage"
    parse_html_text(params["text"])
    assert all(amount in params["text"] for amount in shown) and "ORD1" in params["text"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_expiry_notice_names_the_exact_amount_that_still_counts(lang):
    _, params = views.render_notice(Notice(1001, an_order(status=OrderStatus.EXPIRED), "expired", lang), 3)
    assert params["text"].count("15.003") >= 2
