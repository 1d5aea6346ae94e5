"""GIFTS_DRY_RUN (a local stack on a real bot): a paid order completes, nothing is bought, and the buyer is
told it was a dry run."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.orders import OrderStatus
from tests.support import TEST_ENV


@pytest.fixture
def container(aws, sandbox, clock):
    """The suite's container, with gifts in dry run."""
    import httpx

    from chalicelib.config import load_settings
    from chalicelib.container import Container, set_container
    from devstack.infra import seed_defaults

    built = Container(load_settings({**TEST_ENV, "GIFTS_DRY_RUN": "true"}),
                      telegram_transport=httpx.WSGITransport(app=sandbox), clock=clock, sleep=lambda seconds: None)
    set_container(built)
    seed_defaults(built)
    yield built
    set_container(None)


def test_a_dry_run_gift_completes_the_order_spends_nothing_and_says_so(api, container, calls, sandbox):
    # Given a bot with no Stars at all, and a buyer who pays for a friend's Premium
    sandbox.extensions["sandbox"].set_star_balance(0)
    order = json.loads(api.create_order(recipient_user_id=2002).body)
    assert json.loads(api.pay(order).body)["results"][0]["outcome"] == "MATCHED"

    # When the delivery worker takes the order
    api.drain("delivery", "deliver_orders")

    # Then the order is delivered, yet neither the gift nor the balance question reached Telegram
    assert container.orders.get(order["order_id"]).status == OrderStatus.DELIVERED
    assert calls("giftPremiumSubscription") == [] and calls("getMyStarBalance") == []
    method, params = container.telegram.recorded[0]
    assert method == "giftPremiumSubscription" and params["user_id"] == 2002
    assert params["month_count"] == order["month_count"]
    # And the buyer's and the recipient's messages say it was a dry run; "payment received" does not
    delivered = [call["params"]["text"] for call in calls("sendMessage")
                 if call["params"]["chat_id"] in (1001, 2002) and "🧪" in call["params"]["text"]]
    assert len(delivered) == 2 and all("Dry run" in text for text in delivered)
    paid = [call["params"]["text"] for call in calls("sendMessage") if "Payment received" in call["params"]["text"]]
    assert paid and not any("Dry run" in text for text in paid)


def test_without_the_setting_the_gift_is_real(aws, sandbox, clock):
    import httpx

    from chalicelib.adapters.telegram import TelegramClient
    from chalicelib.config import load_settings
    from chalicelib.container import Container

    built = Container(load_settings(TEST_ENV), telegram_transport=httpx.WSGITransport(app=sandbox), clock=clock)
    assert type(built.telegram) is TelegramClient
