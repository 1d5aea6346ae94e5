"""The unique amount: the smallest free suffix, unique per receiving address across every price, within a
configured step and cap, and shown to the buyer as the exact surcharge."""
from __future__ import annotations

import json

import pytest

from chalicelib.config import load_settings
from tests.support import TEST_ENV, new_order, outcome, status_of


@pytest.fixture
def configure(container):
    """Settings for this test, before the payment method is first built."""
    def apply(**env: str) -> None:
        container.settings = load_settings({**TEST_ENV, **env})
    return apply


def test_each_order_takes_the_smallest_suffix_free_on_its_address_whatever_its_price(api):
    amounts = [new_order(api, user_id=n, product_id=product)["amount"]
               for n, product in enumerate(["premium_3m", "premium_6m", "premium_3m", "premium_12m"], start=1)]
    assert amounts == ["15.001", "22.002", "15.003", "36.004"]


def test_a_price_difference_overpays_the_order_whose_suffix_it_carries_not_the_other(api, container):
    three = new_order(api, user_id=1, product_id="premium_3m")
    six = new_order(api, user_id=2, product_id="premium_6m")
    assert (three["amount"], six["amount"]) == ("15.001", "22.002")

    overpaid = outcome(api.pay(three, amount="22.001"))   # 15.001 + 7: the 6-month price, with 3m's suffix

    assert (overpaid["outcome"], overpaid["reason"], overpaid["order_id"]) == (
        "MATCHED", "OVERPAID", three["order_id"])
    assert status_of(container, three) == "PAID" and status_of(container, six) == "PENDING"
    assert container.wallets.balance("user:1").balance_micros == 7_000_000
    own = outcome(api.pay(six))
    assert (own["outcome"], own["order_id"]) == ("MATCHED", six["order_id"])
    assert container.wallets.balance("user:2").balance_micros == 0


def test_the_surcharge_never_exceeds_the_cap(api, configure, container):
    configure(AMOUNT_SURCHARGE_CAP="0.003")
    amounts = [new_order(api, user_id=n)["amount"] for n in range(1, 4)]
    assert amounts == ["15.001", "15.002", "15.003"]

    refused = api.create_order(user_id=9, product_id="premium_6m")   # 22 shares 15's suffixes: none left

    assert refused.status_code == 503, refused.body
    assert json.loads(refused.body)["error"]["code"] == "NO_PAYMENT_SLOT" and refused.headers["Retry-After"]
    container.settings_store.put("prices", {"premium_3m": "15", "premium_6m": "22.5", "premium_12m": "36"})
    container.live_settings.forget()
    assert new_order(api, user_id=10, product_id="premium_6m")["amount"] == "22.501"   # its own suffixes


def test_a_step_of_a_ten_thousandth(api, configure, container):
    configure(AMOUNT_SUFFIX_DECIMALS="4", AMOUNT_SURCHARGE_CAP="0.01")
    order = new_order(api)
    assert (order["amount"], order["payment"]["surcharge"]) == ("15.0001", "0.0001")
    assert outcome(api.pay(order))["outcome"] == "MATCHED"


def test_the_order_answer_shows_price_and_exact_surcharge(api):
    new_order(api, user_id=1)
    order = new_order(api, user_id=2)
    assert order["payment"]["amount"] == "15.002" and order["payment"]["surcharge"] == "0.002"
    assert order["payment"]["price"] == "15.000"
