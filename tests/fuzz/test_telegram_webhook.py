"""Property: no update makes the bot fail, and a button the bot refuses (stale, expired, not found) changes
nothing but the bot's own bookkeeping: the update's claim, the chat's state and the user's profile.

Updates are Telegram-shaped with hostile values: callback data built from our own verbs with forged
arguments (numbers written oddly, recipients the API refuses, stamps from the future), commands and codes
typed every way, and fields of the wrong type. Each test drives one chat in one emulator."""
from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from hypothesis import event, given, strategies as st

from chalicelib.bot import placing, verbs
from chalicelib.i18n import LANGUAGES, text as translated
from tests.fuzz.strategies import NASTY, fuzz, json_values, text
from tests.telegram_updates import (WEBHOOK_SECRET, callback_update, member_update, message_update, user_json,
                                    users_shared_update)

PREFIX = "tgshop-test"
REFUSALS = {translated(language, key) for language in LANGUAGES
            for key in ("callback.stale", "buy.confirm_expired", "order.not_found")} | \
    {translated(language, "wallet.amount_out_of_range", min="1.00", max="5000.00") for language in LANGUAGES}
_update_ids = itertools.count(900_000_000)


def bookkeeping(write) -> bool:
    """The writes every handled update may make: its claim, the chat's state, the sender's profile."""
    if write.table == f"{PREFIX}-guards":
        return str(write.values.get("guard_id", "")).startswith("update#")
    return write.table in (f"{PREFIX}-conversations", f"{PREFIX}-accounts")


@pytest.fixture
def chat(client, clock, sandbox, api):
    """Ann, who has said /start and has one open order (a real order id for the buttons to name)."""
    ann = user_json(1001, first_name="Ann", username="ann_buyer")
    api.create_order(user_id=1001)
    post(client, message_update(ann, "/start", update_id=next(_update_ids)))
    return {"user": ann, "order_id": _first_order_id(api), "state": sandbox.extensions["sandbox"]}


def _first_order_id(api) -> str:
    return json.loads(api.client.http.get("/orders", headers=api.buyer_headers(1001)).body)["orders"][0]["order_id"]


def post(client, update) -> dict:
    response = client.http.post("/telegram/webhook", body=json.dumps(update),
                                headers={"Content-Type": "application/json",
                                         "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    assert response.status_code == 200, response.body
    return json.loads(response.body)


# ---------------------------------------------------------------------------------------------- strategies
VERBS = [verbs.MENU, verbs.BUY, verbs.MONTHS, verbs.RECIPIENT, verbs.CONFIRM, verbs.CHECK, verbs.CANCEL_ORDER,
         verbs.ORDERS, verbs.ORDER, verbs.REDEEM, verbs.HELP, verbs.LANGUAGE, verbs.SET_LANGUAGE, verbs.WALLET,
         verbs.HISTORY, verbs.TOP_UP, verbs.TOP_UP_AMOUNT, verbs.PAY_FROM_BALANCE, verbs.TOP_UP_DIFFERENCE, "zz", ""]
ORDERING_VERBS = {verbs.CONFIRM, verbs.PAY_FROM_BALANCE, verbs.TOP_UP_DIFFERENCE, verbs.TOP_UP_AMOUNT}


ODD_NUMBERS = ["-5", "0", str(2**53), "+3", "03", "3_0", "٣", " 3", "3.0", "", "9" * 30]


def _slots(order_id: str, now) -> dict[str, st.SearchStrategy[str]]:
    """Each kind of argument our buttons carry: the values they really hold, and forgeries."""
    seconds = st.integers(min_value=-10**6, max_value=10**8)
    return {
        "months": st.sampled_from(["3", "6", "12", "1", *ODD_NUMBERS]),
        "who": st.sampled_from([verbs.FOR_ME, verbs.FOR_OTHER, "", "ME", "1001"]),
        "recipient": st.sampled_from(["1001", "2002", *ODD_NUMBERS]),
        "stamp": st.one_of(
            st.integers(min_value=-3500, max_value=20).map(lambda ago: placing.stamp(now + timedelta(seconds=ago), 7)),
            seconds.map(lambda ahead: placing.stamp(now + timedelta(seconds=ahead), 7)),
            st.sampled_from(["", "zz", "1.2.3", "ZZZZZZ.1", "+z.1", "é.1", "z.", ".z"])),
        "order": st.sampled_from([order_id, order_id.lower(), "", "x" * 60, "é", "../" + order_id]),
        "page": st.sampled_from(["0", "1", "40", "41", *ODD_NUMBERS]),
        "cents": st.sampled_from(["1000", "100", "99", "500000", "500001", *ODD_NUMBERS]),
        "language": st.sampled_from(["en", "ru", "zh", "xx", "EN", ""]),
    }


SHAPES = {verbs.MONTHS: ["months"], verbs.RECIPIENT: ["months", "who"],
          verbs.CONFIRM: ["months", "recipient", "stamp"], verbs.CHECK: ["order"], verbs.CANCEL_ORDER: ["order"],
          verbs.ORDERS: ["page"], verbs.ORDER: ["order", "page"], verbs.SET_LANGUAGE: ["language"],
          verbs.HISTORY: ["page"], verbs.TOP_UP_AMOUNT: ["cents", "stamp"],
          verbs.PAY_FROM_BALANCE: ["months", "recipient", "stamp"],
          verbs.TOP_UP_DIFFERENCE: ["months", "recipient", "stamp"]}


def callback_data(order_id: str, now, verb_names: list[str] = VERBS) -> st.SearchStrategy[str]:
    """Our verbs with their argument slots filled from `_slots` (sometimes one slot too many or too few), or
    any verb with any arguments."""
    slots = _slots(order_id, now)
    anything = st.one_of(*slots.values(), text, st.integers().map(str))

    def shaped(verb: str) -> st.SearchStrategy[str]:
        args = st.tuples(*(slots[slot] for slot in SHAPES.get(verb, [])))
        extra = st.lists(anything, max_size=1)
        return st.builds(lambda values, more: verbs.SEPARATOR.join([verb, *values, *more]), args, extra)

    return st.one_of(st.sampled_from(verb_names).flatmap(shaped),
                     st.builds(lambda verb, args: verbs.SEPARATOR.join([verb, *args]), st.sampled_from(verb_names),
                               st.lists(anything, max_size=4)))


MESSAGES = st.one_of(
    st.builds(lambda command, rest: f"{command} {rest}".strip(),
              st.sampled_from(["/start", "/help", "/cancel", "/orders", "/redeem", "/language", "/balance", "/nope",
                               "/start redeem-", "/START@shop_bot", "/"]),
              st.one_of(text, st.sampled_from(["abcd efgh jkmn pqrs", "ABCD-EFGH-JKMN-PQRS", "0OIL" * 4]))),
    text, st.sampled_from(NASTY), st.sampled_from(["@ann_buyer", "@nobody_here", "@", "@" + "a" * 40]))


def _odd_fields(update: dict, changes: dict) -> dict:
    """An update with some of its fields (at any depth of the first object) replaced by any JSON value."""
    kind = next(key for key in update if key != "update_id")
    return {**update, kind: {**update[kind], **changes}}


# ---------------------------------------------------------------------------------------------- properties
@given(data=st.data())
@fuzz(150)
def test_no_button_fails_and_a_refused_one_changes_nothing(chat, client, clock, writes, data):
    clock.advance(seconds=3)  # a person's pace: flood control is not what is fuzzed here
    callback = data.draw(callback_data(chat["order_id"], clock.now()), label="callback data")
    update = callback_update(chat["user"], callback, message_id=data.draw(st.integers(-1, 10**6)),
                             update_id=next(_update_ids))
    writes.take()
    answer_count = len(chat["state"].calls("answerCallbackQuery"))
    result = post(client, update)["result"]
    left = writes.take()
    answers = chat["state"].calls("answerCallbackQuery")[answer_count:]
    answered = answers[-1]["params"].get("text") if answers else None
    event(f"{callback.partition(':')[0]!r} -> {result}, {'refused' if answered in REFUSALS else 'acted'}")
    assert result == "handled", result
    assert len(answers) == 1  # every tapped button is answered, once
    if answered in REFUSALS:
        assert [write for write in left if not bookkeeping(write)] == [], [str(write) for write in left]


@given(data=st.data())
@fuzz(150)
def test_no_update_of_any_shape_fails(chat, client, clock, writes, data):
    clock.advance(seconds=3)
    user = data.draw(st.one_of(st.just(chat["user"]), st.builds(
        lambda user_id, name: user_json(user_id, first_name=name),
        st.integers(min_value=1, max_value=2**40), text)), label="user")
    update = data.draw(st.one_of(
        st.builds(lambda body: message_update(user, body, update_id=next(_update_ids)), MESSAGES),
        st.builds(lambda months, shared: users_shared_update(user, months, shared),
                  st.one_of(st.sampled_from([3, 6, 12]), st.integers()),
                  st.lists(st.fixed_dictionaries({"user_id": st.integers()}, optional={"first_name": json_values}),
                           max_size=2)),
        st.builds(lambda status: member_update(user, "member", status), st.one_of(
            st.sampled_from(["kicked", "member", "left", "administrator"]), text)),
        st.builds(lambda callback: callback_update(user, callback, message_id=1, update_id=next(_update_ids)),
                  callback_data(chat["order_id"], clock.now(), [verb for verb in VERBS if verb not in ORDERING_VERBS])),
    ), label="update")
    if data.draw(st.booleans(), label="odd fields"):
        update = _odd_fields(update, data.draw(st.dictionaries(
            st.sampled_from(["from", "chat", "text", "data", "message", "message_id", "id", "users_shared",
                             "new_chat_member"]), json_values, min_size=1, max_size=2), label="changes"))
    if data.draw(st.integers(0, 9), label="odd update") == 0:
        update = data.draw(st.one_of(json_values, st.dictionaries(text, json_values)), label="any JSON")
    result = post(client, update)["result"]
    event(result)
    assert result != "failed"
    left = writes.take()
    assert not [write for write in left if write.table in (f"{PREFIX}-orders", f"{PREFIX}-amount-slots")], \
        [str(write) for write in left]  # orders come from a button that orders, and none of these is one
