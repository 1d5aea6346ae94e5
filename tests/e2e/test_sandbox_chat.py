"""The sandbox web chat driving the real app in process: typed text, pressed buttons, a shared user and
"Simulate payment" all reach the app as real Updates or a signed TRC20 webhook."""
from __future__ import annotations

import httpx
import pytest

from tests.support import PAYMENT_SECRET, USDT_CONTRACT

ANN = {"user_id": 1001, "first_name": "Ann", "username": "ann_local", "language_code": "en"}
_app = {}


def forward_to_app(request: httpx.Request) -> httpx.Response:
    """The sandbox's outgoing webhooks, handed to chalice's test client instead of a socket."""
    response = _app["client"].http.post(request.url.path, body=request.content, headers=dict(request.headers))
    return httpx.Response(response.status_code, content=response.body)


@pytest.fixture
def sandbox(clock):
    from devstack.sandbox import create_sandbox_app

    return create_sandbox_app(clock=lambda: clock.now().timestamp(), webhook_target="http://app/telegram/webhook", webhook_secret="test-webhook-secret",
                              payment_target="http://app/webhooks/payments/trc20", payment_secret=PAYMENT_SECRET,
                              usdt_contract=USDT_CONTRACT, http_transport=httpx.MockTransport(forward_to_app))


@pytest.fixture
def page(client, sandbox, clock):
    _app["client"] = client
    http = httpx.Client(transport=httpx.WSGITransport(app=sandbox), base_url="http://sandbox")

    def act(path, **body):
        clock.advance(seconds=2)
        response = http.post(f"/_sandbox/chat/{path}", json={**ANN, **body})
        assert response.status_code == 200, response.text
        assert response.json()["ok"], response.json()
        return response.json()

    def chat():
        return http.get(f"/_sandbox/chats/{ANN['user_id']}").json()

    def press(label):
        for message in reversed(chat()["messages"]):
            for row in message["buttons"]:
                for button in row:
                    if label in button["text"]:
                        return act("press", message_id=message["message_id"], data=button["callback_data"])
        raise AssertionError(f"no button {label!r}")

    yield act, chat, press
    http.close()
    _app.clear()


def test_the_whole_purchase_by_hand(page, api):
    act, chat, press = page
    act("send", text="/start")
    assert "Hello, Ann!" in chat()["messages"][-1]["html"]
    press("Buy Premium")
    press("3 months")
    press("Myself")
    press("Confirm")
    payment = chat()["messages"][-1]
    assert payment["edited"] and "<code>15." in payment["html"]
    paid = act("pay")
    assert paid["status"] == 200 and '"MATCHED"' in paid["body"]
    api.drain("delivery", "deliver_orders")
    messages = chat()["messages"]
    assert any("Done: 3 months" in message["html"] for message in messages)
    assert "Done: 3 months" in next(m for m in messages if m["message_id"] == payment["message_id"])["html"]


def test_sharing_a_user_and_the_reply_keyboard(page, container):
    act, chat, press = page
    act("send", text="/start")
    press("Buy Premium")
    press("6 months")
    press("Someone else")
    keyboard = chat()["keyboard"]["keyboard"][0][0]
    assert keyboard["request_users"]["request_id"] == 6
    act("share", request_id=6, shared={"user_id": 2002, "first_name": "Bob <b>", "username": "bob_local"})
    view = chat()
    assert view["keyboard"] is None
    assert "Bob &lt;b&gt;" in view["messages"][-1]["html"]
    press("Confirm")
    orders = container.ordering.list_owned("user:1001", 5, None).items
    assert orders[0].recipient_user_id == 2002


def test_bot_html_is_rebuilt_from_a_whitelist():
    from devstack.sandbox import render_html

    assert render_html('<b>x</b> <a href="javascript:alert(1)">y</a> <code>&lt;i&gt;</code>', "HTML") == \
        "<b>x</b> <a>y</a> <code>&lt;i&gt;</code>"
    assert render_html('<a href="https://t.me/x">t</a>', "HTML") == \
        '<a href="https://t.me/x" target="_blank" rel="noopener noreferrer">t</a>'
    assert render_html("<script>", None) == "&lt;script&gt;"
    assert render_html("<b>unclosed", "HTML") == "&lt;b&gt;unclosed"


def test_a_button_that_is_not_on_the_message_is_refused(page, sandbox):
    act, chat, press = page
    act("send", text="/start")
    message_id = chat()["messages"][-1]["message_id"]
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox), base_url="http://sandbox") as http:
        forged = http.post("/_sandbox/chat/press", json={**ANN, "message_id": message_id, "data": "ok:3:1:x"})
        missing = http.post("/_sandbox/chat/press", json={**ANN, "message_id": 9999, "data": "buy"})
        bad_user = http.post("/_sandbox/chat/send", json={**ANN, "user_id": "me", "text": "hi"})
        no_payment = http.post("/_sandbox/chat/pay", json=ANN)
    assert forged.status_code == missing.status_code == bad_user.status_code == no_payment.status_code == 400
    assert "no such button" in forged.json()["description"]
    assert "amount and an address" in no_payment.json()["description"]
