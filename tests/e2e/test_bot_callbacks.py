"""Callback data is input like any other: a forged or altered button is checked as strictly as the HTTP
request it stands for, and refused without writing anything."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.bot import placing
from tests.telegram_updates import ChatDriver, callback_update, user_json, users_shared_update


@pytest.fixture
def state(sandbox):
    return sandbox.extensions["sandbox"]


@pytest.fixture
def ann(client, state, clock):
    chat = ChatDriver(client, state, user_json(1001, first_name="Ann"), clock, pace_seconds=2)
    chat.say("/start")
    return chat


def orders(aws) -> list[dict]:
    return aws["dynamodb"].scan(TableName="tgshop-test-orders")["Items"]


def confirm_claims(aws) -> list[str]:
    items = aws["dynamodb"].scan(TableName="tgshop-test-guards")["Items"]
    return [item["guard_id"]["S"] for item in items if item["guard_id"]["S"].startswith("confirm#")]


def tap(chat, data: str) -> str:
    chat.post(callback_update(chat.user, data, message_id=chat.last_bot_message_id()))
    return chat.answers()[-1]["params"].get("text", "")


STALE = "This button is no longer active."
EXPIRED = "This confirmation has expired. Please start again."
BAD_RECIPIENTS = ["-5", "0", str(2**53), "+5", " 5", "5_0", "٣", "1e3", "abc", "", "99999999999999999999", "05"]


def test_a_confirm_for_a_recipient_the_api_refuses_orders_nothing(ann, aws, clock):
    stamp = placing.stamp(clock.now(), 1)
    answers = {recipient: tap(ann, f"ok:3:{recipient}:{stamp}") for recipient in BAD_RECIPIENTS}
    assert answers == {recipient: STALE for recipient in BAD_RECIPIENTS}
    assert orders(aws) == [] and confirm_claims(aws) == []


@pytest.mark.parametrize("recipient", [-5, 0, 2**53])
def test_the_http_api_refuses_the_same_recipients(api, recipient):
    response = api.create_order(recipient_user_id=recipient)
    assert response.status_code == 400 and json.loads(response.body)["error"]["field"] == "recipient_user_id"


def test_a_confirm_for_months_written_oddly_orders_nothing(ann, aws, clock):
    odd = ["+3", " 3", "03", "3_0", "٣", "", "3.0", "-3"]
    answers = {months: tap(ann, f"ok:{months}:1001:{placing.stamp(clock.now(), 1)}") for months in odd}
    assert answers == {months: STALE for months in odd}
    assert orders(aws) == [] and confirm_claims(aws) == []


def test_a_confirm_stamped_in_the_future_is_refused(ann, aws, clock):
    ahead = [timedelta(minutes=2), timedelta(hours=1), timedelta(days=400)]
    answers = [tap(ann, f"ok:3:1001:{placing.stamp(clock.now() + delta, 1)}") for delta in ahead]
    assert answers == [EXPIRED] * len(ahead)
    assert orders(aws) == [] and confirm_claims(aws) == []


def test_a_malformed_stamp_orders_nothing(ann, aws):
    malformed = ["", "zz", "1.2.3", "é.1", "ZZZZZZ.1", "-1.1", ".", "a" * 30 + ".1", "+z.1", " z.1"]
    answers = {stamp: tap(ann, f"ok:3:1001:{stamp}") for stamp in malformed}
    assert answers == {stamp: STALE for stamp in malformed}
    assert orders(aws) == [] and confirm_claims(aws) == []


def test_a_confirm_stamped_within_the_hour_or_a_few_seconds_ahead_still_orders(ann, aws, clock):
    tap(ann, f"ok:3:2002:{placing.stamp(clock.now() - timedelta(minutes=59), 1)}")
    tap(ann, f"ok:6:2002:{placing.stamp(clock.now() + timedelta(seconds=20), 2)}")
    assert len(orders(aws)) == 2 and len(confirm_claims(aws)) == 2


def test_a_shared_user_the_api_would_refuse_as_recipient_gets_no_confirmation(ann, aws):
    for user_id in (-5, 0, 2**53):
        ann.post(users_shared_update(ann.user, 3, [{"user_id": user_id, "first_name": "Eve"}]))
        assert ann.last_text() == STALE
        assert "Confirm" not in " ".join(ann.buttons())
    assert orders(aws) == []
