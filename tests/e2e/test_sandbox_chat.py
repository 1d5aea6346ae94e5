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


def test_the_wallet_by_hand_top_up_pay_from_balance_and_a_failed_gift_refunded(page, api, sandbox, container):
    from devstack.sandbox import FaultRule

    act, chat, press = page

    def shown(message_id=None) -> str:
        messages = chat()["messages"]
        return next(m for m in messages if m["message_id"] == message_id)["html"] if message_id \
            else messages[-1]["html"]

    def everything() -> str:
        return "\n".join(message["html"] for message in chat()["messages"])

    act("send", text="/start")
    press("Wallet")
    assert "Balance: <b>0.00 USDT</b>" in shown()
    press("Top up")
    press("25.00 USDT")
    top_up = chat()["messages"][-1]
    assert top_up["edited"] and "Top-up <code>" in top_up["html"] and "25.000 USDT for your wallet" in top_up["html"]
    paid = act("pay")
    assert paid["status"] == 200 and '"MATCHED"' in paid["body"]
    api.drain("delivery", "deliver_orders")
    credited = paid["amount"]                               # 25 USDT and the suffix that told it apart
    assert f"Your wallet was topped up by {credited} USDT" in shown(top_up["message_id"])   # edited in place
    act("send", text="/balance")
    assert f"Balance: <b>{credited} USDT</b>" in shown()

    press("Back")
    press("Buy Premium")
    press("3 months")
    press("Myself")
    press("Pay with balance (15.00 USDT)")
    receipt = chat()["messages"][-1]
    assert "is paid from your wallet: 15.00 USDT" in receipt["html"]
    api.drain("delivery", "deliver_orders")
    assert "Done: 3 months" in shown(receipt["message_id"])

    # Telegram refuses the next gift for good: the order fails and what it cost goes back to the wallet.
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                                      description="Bad Request: PREMIUM_GIFT_FAILED"))
    act("send", text="/start")
    press("Buy Premium")
    press("3 months")
    press("Myself")
    press("Top up the difference (5.00 USDT) and pay")     # the wallet holds 10 and the suffix
    difference = chat()["messages"][-1]
    assert "the purchase you chose is paid from your wallet" in difference["html"]
    assert act("pay")["status"] == 200
    api.drain("delivery", "deliver_orders")                 # the top-up, then the purchase it makes
    story = everything()
    assert "Your wallet was topped up by 5.00" in shown(difference["message_id"])
    assert "PREMIUM_GIFT_FAILED" in story
    assert story.index("We could not deliver order") < story.index("USDT you paid was refunded to your wallet")
    failed = [order for order in container.ordering.list_owned("user:1001", 10, None).items
              if order.status == "FAILED"]
    assert len(failed) == 1 and failed[0].payment_method == "balance"
    balance = container.wallets.balance("user:1001").balance_micros
    assert balance >= 15_000_000   # the refunded price, and what the suffixes added

    act("send", text="/balance")
    press("History")
    history = shown()
    assert history.index(f"Refund of order <code>…{failed[0].order_id[-6:]}</code>") < \
        history.index("paid from the wallet")      # newest first
    assert history.count("<b>−15.00 USDT</b>") == 2 and history.count("Transfer for order") == 2
