"""The Telegram sandbox answers like the Bot API, records calls and injects faults on request."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from devstack.sandbox import DEFAULT_STAR_BALANCE, create_sandbox_app, serve_sandbox

TOKEN = "123456:TEST-token_value"
API = f"/bot{TOKEN}"


@pytest.fixture
def app():
    return create_sandbox_app()


@pytest.fixture
def client(app):
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox") as http:
        yield http


def assert_bad_request(response: httpx.Response, description: str) -> None:
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}


def inline_keyboard(*buttons: dict) -> dict:
    return {"inline_keyboard": [list(buttons)]}


def test_send_message_is_answered_with_a_message_and_recorded(client, app):
    first = client.post(f"{API}/sendMessage", json={"chat_id": 42, "text": "<b>Hello</b> &amp; welcome",
                                                    "parse_mode": "HTML"})
    second = client.post(f"{API}/sendmessage", json={"chat_id": "42", "text": "again"})

    assert first.status_code == 200
    body = first.json()
    assert body["ok"] is True
    message = body["result"]
    assert message["chat"] == {"id": 42, "type": "private"}
    assert message["text"] == "Hello & welcome"
    assert isinstance(message["date"], int)
    assert second.json()["result"]["message_id"] > message["message_id"]

    calls = client.get("/_sandbox/calls").json()
    assert [call["method"] for call in calls] == ["sendMessage", "sendMessage"]
    assert calls[0]["params"]["chat_id"] == 42
    assert calls[1]["params"]["chat_id"] == 42
    assert calls[0]["token"] == TOKEN
    assert calls[0]["status"] == 200
    assert calls[0]["response"] == body
    assert calls[0]["seq"] < calls[1]["seq"]
    assert app.extensions["sandbox"].calls("sendMessage") == calls


def test_get_me_and_query_string_parameters(client):
    me = client.get(f"{API}/getMe").json()["result"]
    sent = client.get(f"{API}/sendMessage", params={"chat_id": "@shop_channel", "text": "hi"})

    assert me == {"id": 123456, "is_bot": True, "first_name": "tgshop sandbox", "username": "tgshop_sandbox_bot"}
    assert sent.status_code == 200
    assert sent.json()["result"]["chat"]["username"] == "shop_channel"


@pytest.mark.parametrize(("payload", "description"), [
    ({"text": "hi"}, "Bad Request: chat_id is empty"),
    ({"chat_id": 42}, "Bad Request: message text is empty"),
    ({"chat_id": 42, "text": ""}, "Bad Request: message text is empty"),
    ({"chat_id": 42, "text": "  <b> </b>", "parse_mode": "HTML"}, "Bad Request: message text is empty"),
    ({"chat_id": 42, "text": "x" * 4097}, "Bad Request: message is too long"),
    ({"chat_id": 42, "text": "<b>bold</i>", "parse_mode": "HTML"},
     'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 7, expected "</b>", found "</i>"'),
    ({"chat_id": 42, "text": "<b>bold", "parse_mode": "HTML"},
     'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"'),
    ({"chat_id": 42, "text": "line<br>break", "parse_mode": "HTML"},
     'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 4'),
    ({"chat_id": 42, "text": "hi", "parse_mode": "bbcode"}, "Bad Request: unsupported parse_mode"),
    ({"chat_id": 42, "text": "hi", "reply_markup": inline_keyboard({"text": "Buy", "callback_data": "x" * 65})},
     "Bad Request: BUTTON_DATA_INVALID"),
    ({"chat_id": 42, "text": "hi", "reply_markup": inline_keyboard({"text": "Buy"})},
     "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"),
    ({"chat_id": 42, "text": "hi",
      "reply_markup": {"inline_keyboard": [{"text": "Buy", "url": "https://x.io"}]}},
     'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'),
    ({"chat_id": 42, "text": "hi", "disable_notification": "maybe"},
     'Bad Request: parameter "disable_notification" must be a Boolean'),
])
def test_send_message_refusals_use_telegrams_error_shape(client, payload, description):
    response = client.post(f"{API}/sendMessage", json=payload)

    assert_bad_request(response, description)
    assert client.get("/_sandbox/calls").json()[-1]["status"] == 400


def test_text_of_exactly_4096_characters_and_64_byte_callback_data_are_accepted(client):
    markup = inline_keyboard({"text": "Buy", "callback_data": "é" * 32})

    response = client.post(f"{API}/sendMessage", json={"chat_id": 1, "text": "x" * 4096, "reply_markup": markup})

    assert response.status_code == 200
    assert response.json()["result"]["reply_markup"] == markup


def test_form_encoded_reply_markup_is_decoded(client):
    markup = {"keyboard": [[{"text": "Pick a friend", "request_users": {"request_id": 7}}]],
              "resize_keyboard": True}

    response = client.post(f"{API}/sendMessage", data={"chat_id": "42", "text": "choose",
                                                       "reply_markup": json.dumps(markup)})

    assert response.status_code == 200
    call = client.get("/_sandbox/calls").json()[-1]
    assert call["params"] == {"chat_id": 42, "text": "choose", "reply_markup": markup}


def test_form_encoded_reply_markup_that_is_not_json_is_refused(client):
    response = client.post(f"{API}/sendMessage", data={"chat_id": "42", "text": "hi", "reply_markup": "{oops"})

    assert_bad_request(response, "Bad Request: can't parse reply keyboard markup JSON object")
    assert client.get("/_sandbox/calls").json()[-1]["params"]["reply_markup"] == "{oops"


def test_send_document_records_the_uploaded_file(client):
    response = client.post(f"{API}/sendDocument", data={"chat_id": "42", "caption": "your codes"},
                           files={"document": ("codes.txt", b"CODE-1\nCODE-2\n", "text/plain")})

    assert response.status_code == 200
    assert response.json()["result"]["document"]["file_name"] == "codes.txt"
    document = client.get("/_sandbox/calls?method=sendDocument").json()[-1]["params"]["document"]
    assert document == {"filename": "codes.txt", "size": 14, "content": "CODE-1\nCODE-2\n"}


def test_send_document_without_a_document_is_refused(client):
    assert_bad_request(client.post(f"{API}/sendDocument", data={"chat_id": "42"}),
                       "Bad Request: there is no document in the request")


def test_edit_and_delete_require_a_message_identifier(client):
    markup = inline_keyboard({"text": "Open", "url": "https://example.org"})

    edited = client.post(f"{API}/editMessageText", json={"chat_id": 42, "message_id": 5, "text": "new"})
    inline = client.post(f"{API}/editMessageReplyMarkup",
                         json={"inline_message_id": "abc", "reply_markup": markup})
    missing = client.post(f"{API}/deleteMessage", json={"chat_id": 42})

    assert edited.json()["result"]["message_id"] == 5
    assert inline.json() == {"ok": True, "result": True}
    assert_bad_request(missing, "Bad Request: message identifier is not specified")


def test_gift_premium_checks_month_and_star_pairs_and_deducts_the_balance(client):
    for months, stars in ((3, 1000), (6, 1500), (12, 2500)):
        response = client.post(f"{API}/giftPremiumSubscription",
                               json={"user_id": 7, "month_count": months, "star_count": stars})
        assert response.json() == {"ok": True, "result": True}
    wrong_months = client.post(f"{API}/giftPremiumSubscription",
                               json={"user_id": 7, "month_count": 4, "star_count": 1000})
    wrong_price = client.post(f"{API}/giftPremiumSubscription",
                              data={"user_id": "7", "month_count": "6", "star_count": "1000"})
    not_a_number = client.post(f"{API}/giftPremiumSubscription",
                               json={"user_id": 7, "month_count": "six", "star_count": 1500})

    assert_bad_request(wrong_months, "Bad Request: month_count must be one of 3, 6 or 12")
    assert_bad_request(wrong_price, "Bad Request: star_count must be 1500 for 6 months")
    assert_bad_request(not_a_number, 'Bad Request: parameter "month_count" must be an Integer')
    balance = client.get(f"{API}/getMyStarBalance").json()
    assert balance == {"ok": True, "result": {"amount": DEFAULT_STAR_BALANCE - 5000}}


def test_gift_premium_with_too_few_stars_is_balance_too_low(client):
    assert client.put("/_sandbox/star-balance", json={"amount": 1499}).json() == {"amount": 1499}

    response = client.post(f"{API}/giftPremiumSubscription",
                           json={"user_id": 7, "month_count": 6, "star_count": 1500})

    assert_bad_request(response, "Bad Request: BALANCE_TOO_LOW")
    assert client.get("/_sandbox/star-balance").json() == {"amount": 1499}
    assert client.post(f"{API}/getMyStarBalance").json()["result"] == {"amount": 1499}


def test_gift_text_is_limited_to_128_characters(client):
    response = client.post(f"{API}/giftPremiumSubscription",
                           json={"user_id": 7, "month_count": 3, "star_count": 1000, "text": "x" * 129})

    assert_bad_request(response, "Bad Request: text is too long")


def test_429_fault_carries_retry_after_and_is_recorded(client):
    client.post("/_sandbox/faults", json={"method": "giftPremiumSubscription", "error_code": 429,
                                          "description": "Too Many Requests: retry after 2", "retry_after": 2})
    gift = {"user_id": 7, "month_count": 3, "star_count": 1000}

    faulted = client.post(f"{API}/giftPremiumSubscription", json=gift)
    retried = client.post(f"{API}/giftPremiumSubscription", json=gift)

    assert faulted.status_code == 429
    assert faulted.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 2",
                              "parameters": {"retry_after": 2}}
    assert retried.status_code == 200
    assert client.get("/_sandbox/star-balance").json() == {"amount": DEFAULT_STAR_BALANCE - 1000}
    statuses = [call["status"] for call in client.get("/_sandbox/calls?method=giftPremiumSubscription").json()]
    assert statuses == [429, 200]


def test_500_fault_twice_then_success(client):
    client.post("/_sandbox/faults", json={"method": "sendMessage", "error_code": 500, "times": 2})

    statuses = [client.post(f"{API}/sendMessage", json={"chat_id": 1, "text": "hi"}).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert client.get("/_sandbox/faults").json() == []


def test_a_fault_after_acting_does_the_work_then_answers_the_error(client):
    client.post("/_sandbox/faults", json={"method": "giftPremiumSubscription", "error_code": 502,
                                          "after_acting": True})
    gift = {"user_id": 7, "month_count": 3, "star_count": 1000}

    answered = client.post(f"{API}/giftPremiumSubscription", json=gift)

    assert answered.status_code == 502 and answered.json()["description"] == "Bad Gateway"
    assert client.get("/_sandbox/star-balance").json() == {"amount": DEFAULT_STAR_BALANCE - 1000}  # gifted
    recorded = client.get("/_sandbox/calls?method=giftPremiumSubscription").json()
    assert [(call["status"], call["params"]["user_id"]) for call in recorded] == [(502, 7)]
    assert client.post("/_sandbox/faults", json={"method": "getMe", "after_acting": True,
                                                 "delay_seconds": 1}).status_code == 400


def test_delay_and_forbidden_faults(client):
    client.post("/_sandbox/faults", json={"method": "sendChatAction", "delay_seconds": 0.2})
    client.post("/_sandbox/faults", json={"method": "sendMessage", "error_code": 403})

    started = time.monotonic()
    delayed = client.post(f"{API}/sendChatAction", json={"chat_id": 1, "action": "typing"})
    elapsed = time.monotonic() - started
    blocked = client.post(f"{API}/sendMessage", json={"chat_id": 1, "text": "hi"})

    assert elapsed >= 0.2
    assert delayed.json() == {"ok": True, "result": True}
    assert blocked.json() == {"ok": False, "error_code": 403,
                              "description": "Forbidden: bot was blocked by the user"}


def test_faults_can_be_cleared_and_bad_fault_bodies_are_refused(client):
    client.post("/_sandbox/faults", json={"method": "sendMessage", "error_code": 500})

    assert client.delete("/_sandbox/faults").json() == {"ok": True}
    assert client.post(f"{API}/sendMessage", json={"chat_id": 1, "text": "hi"}).status_code == 200
    assert client.post("/_sandbox/faults", json={"method": "noSuchMethod", "error_code": 500}).status_code == 400
    assert client.post("/_sandbox/faults", json={"method": "sendMessage"}).status_code == 400


def test_calls_listing_filter_and_clear(client):
    client.get(f"{API}/getMe")
    client.post(f"{API}/sendMessage", json={"chat_id": 1, "text": "one"})
    client.post(f"{API}/answerCallbackQuery", json={"callback_query_id": "q1", "text": "done"})

    everything = client.get("/_sandbox/calls").json()
    messages = client.get("/_sandbox/calls", params={"method": "sendmessage"}).json()
    cleared = client.delete("/_sandbox/calls")

    assert [call["method"] for call in everything] == ["getMe", "sendMessage", "answerCallbackQuery"]
    assert [call["params"]["text"] for call in messages] == ["one"]
    assert cleared.json() == {"ok": True}
    assert client.get("/_sandbox/calls").json() == []


def test_reset_restores_the_sandbox(client):
    client.put("/_sandbox/star-balance", json={"amount": 0})
    client.post("/_sandbox/faults", json={"method": "getMe", "error_code": 500})
    client.get(f"{API}/getMe")
    client.post(f"{API}/setWebhook", json={"url": "https://shop.example/telegram", "allowed_updates": ["message"]})

    assert client.post("/_sandbox/reset").json() == {"ok": True}

    assert client.get("/_sandbox/calls").json() == []
    assert client.get("/_sandbox/faults").json() == []
    assert client.get("/_sandbox/star-balance").json() == {"amount": DEFAULT_STAR_BALANCE}
    assert client.get(f"{API}/getWebhookInfo").json()["result"]["url"] == ""


def test_webhook_commands_and_updates(client):
    set_hook = client.post(f"{API}/setWebhook", data={"url": "https://shop.example/telegram",
                                                      "allowed_updates": '["message", "callback_query"]'})
    info = client.get(f"{API}/getWebhookInfo").json()["result"]
    commands = client.post(f"{API}/setMyCommands",
                           json={"commands": [{"command": "start", "description": "Shop"}]})
    bad_command = client.post(f"{API}/setMyCommands",
                              json={"commands": [{"command": "Start!", "description": "x"}]})
    updates = client.get(f"{API}/getUpdates").json()

    assert set_hook.json() == {"ok": True, "result": True}
    assert info["url"] == "https://shop.example/telegram"
    assert info["pending_update_count"] == 0
    assert info["allowed_updates"] == ["message", "callback_query"]
    assert commands.json() == {"ok": True, "result": True}
    assert_bad_request(bad_command, "Bad Request: BOT_COMMAND_INVALID")
    assert updates["ok"] is False and updates["error_code"] == 409  # as Telegram: not while a webhook is set
    assert client.post(f"{API}/deleteWebhook").json() == {"ok": True, "result": True}
    assert client.get(f"{API}/getWebhookInfo").json()["result"]["url"] == ""
    assert client.get(f"{API}/getUpdates").json() == {"ok": True, "result": []}


def test_unreadable_json_body_is_refused_after_the_token_check(client):
    headers = {"content-type": "application/json"}

    broken = client.post(f"{API}/sendMessage", content=b"{not json", headers=headers)
    unauthorized = client.post("/botnope/sendMessage", content=b"{not json", headers=headers)

    assert_bad_request(broken, "Bad Request: can't parse JSON encoded request")
    assert unauthorized.status_code == 401


def test_bad_token_is_unauthorized_and_unknown_method_not_found(client):
    unauthorized = client.post("/botnot-a-token/sendMessage", json={"chat_id": 1, "text": "hi"})
    not_found = client.post(f"{API}/sendSticker", json={"chat_id": 1})

    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert not_found.status_code == 404
    assert not_found.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert [call["status"] for call in client.get("/_sandbox/calls").json()] == [401, 404]


def test_custom_token_pattern_and_webhook_settings_are_kept():
    app = create_sandbox_app(bot_token_pattern=r"^test-[a-z]+$", webhook_target="http://localhost:8000/hook",
                             webhook_secret="s3cret")
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox") as http:
        assert http.get("/bottest-bot/getMe").status_code == 200
        assert http.get(f"{API}/getMe").status_code == 401
    assert app.config["SANDBOX_WEBHOOK_TARGET"] == "http://localhost:8000/hook"
    assert app.config["SANDBOX_WEBHOOK_SECRET"] == "s3cret"


def test_calls_page_lists_calls_and_escapes_them(client):
    client.post(f"{API}/sendMessage", json={"chat_id": 1, "text": "<script>alert(1)</script>"})

    page = client.get("/calls")
    script = client.get("/_sandbox/static/calls.js")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "sendMessage" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert '<script src="/_sandbox/static/calls.js"></script>' in page.text
    assert script.status_code == 200
    assert "setInterval(refresh, 2000)" in script.text
    assert "/_sandbox/calls" in script.text
    assert not any(scheme in text for text in (page.text, script.text) for scheme in ("http://", "https://"))


def test_the_chat_page_and_its_assets_are_served(client):
    page = client.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for asset, content_type in (("chat.css", "text/css"), ("chat.js", "text/javascript")):
        assert f"/_sandbox/static/{asset}" in page.text
        served = client.get(f"/_sandbox/static/{asset}")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith(content_type)
    assert client.get("/_sandbox/static/missing.js").json() == {"ok": False, "error_code": 404,
                                                                 "description": "Not Found"}


def test_serve_sandbox_answers_over_real_http():
    server = serve_sandbox("127.0.0.1", 0)
    try:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            sent = http.post(f"{API}/sendMessage", json={"chat_id": 5, "text": "over the wire"})
            calls = http.get("/_sandbox/calls").json()
        assert sent.json()["result"]["text"] == "over the wire"
        assert [call["method"] for call in calls] == ["sendMessage"]
        assert server.app.extensions["sandbox"].calls()[0]["params"]["chat_id"] == 5
    finally:
        server.shutdown()
