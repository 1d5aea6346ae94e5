"""Redeeming a real code through the bot: the redemption service behind /redeem and the deep link."""
from __future__ import annotations

import pytest

from tests.codes_support import codes  # noqa: F401 - the fixture
from tests.telegram_updates import ChatDriver, user_json


@pytest.fixture
def bob(client, sandbox, clock):
    return ChatDriver(client, sandbox.extensions["sandbox"], user_json(2002, first_name="Bob", language="ru"),
                      clock, pace_seconds=2)


def test_a_code_redeemed_in_the_bot_is_gifted_and_announced(codes, bob, calls):  # noqa: F811
    _, token = codes.create_distributor()
    order = codes.buy(token)
    code = codes.codes_of(token, order["order_id"])[0]

    bob.say(f"/start redeem-{code}")
    assert bob.last_text().startswith("🎟 Код принят!")
    codes.deliver()
    gifts = calls("giftPremiumSubscription")
    assert [gift["params"]["user_id"] for gift in gifts] == [2002]
    assert "Готово" in bob.last_text()  # the delivery, announced in the user's language

    bob.say(f"/redeem {code.lower()}")
    assert bob.last_text() == "Вы уже активировали этот код."
    bob.say("/redeem ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert bob.last_text() == "Такого кода нет. Проверьте и попробуйте снова."
    assert all(call["status"] == 200 for call in calls())


def spaced_lower(code: str) -> str:
    """How a person types a code off a card: lower case, groups apart, a stray space at the end."""
    return code.lower().replace("-", " ") + " "


def test_a_code_typed_with_spaces_or_in_lower_case_works_in_the_bot_as_in_the_api(
        codes, bob, client, sandbox, clock, calls):  # noqa: F811
    _, token = codes.create_distributor()
    first, second, third = codes.codes_of(token, codes.buy(token)["order_id"])[:3]
    assert codes.redeem(3003, spaced_lower(first)).status_code == 200  # the API has always taken it

    bob.say(f"/redeem {spaced_lower(second)}")
    assert bob.last_text().startswith("🎟 Код принят!")
    carol = ChatDriver(client, sandbox.extensions["sandbox"], user_json(4004, first_name="Carol"), clock,
                       pace_seconds=2)
    carol.say("/redeem")
    carol.say(third.lower().replace("-", "  "))
    assert carol.last_text().startswith("🎟 Code accepted!")
    codes.deliver()
    assert sorted(gift["params"]["user_id"] for gift in calls("giftPremiumSubscription")) == [2002, 3003, 4004]
