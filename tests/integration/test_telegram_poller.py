"""The long-poller and the webhook admin commands against the sandbox over real HTTP."""
from __future__ import annotations

import json
import threading
import time

import flask
import httpx
import pytest

from devstack.sandbox import serve_sandbox
from devstack.telegram_admin import COMMANDS, AdminError, command_menus, main, webhook_url
from devstack.telegram_poller import PollerError, RealBot, prepare_real_bot, real_bot_from, start_poller
from werkzeug.serving import make_server

TOKEN = "123456:POLLER-token"


@pytest.fixture
def sandbox():
    server = serve_sandbox("127.0.0.1", 0)
    yield server
    server.shutdown()


@pytest.fixture
def receiver():
    """A stand-in for the local API: records what reaches /telegram/webhook."""
    app = flask.Flask("receiver")
    received = []

    @app.post("/telegram/webhook")
    def hook():
        received.append((flask.request.headers.get("X-Telegram-Bot-Api-Secret-Token"), flask.request.get_json()))
        return {"ok": True}

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/telegram/webhook", received
    server.shutdown()


def test_asked_to_the_poller_deletes_the_webhook_and_feeds_each_update_once(sandbox, receiver):
    url, received = receiver
    http = httpx.Client(base_url=sandbox.url, timeout=5)
    http.post(f"/bot{TOKEN}/setWebhook", json={"url": "https://old.example/hook"})
    for text in ("/start", "hello"):
        assert http.post("/_sandbox/chat/send", json={"user_id": 1001, "first_name": "Ann",
                                                      "text": text}).json()["queued"] is True
    stop = threading.Event()
    poller = start_poller(TOKEN, url, "s3cret", stop=stop, api_base_url=sandbox.url, poll_timeout=1,
                          delete_webhook=True)
    deadline = time.monotonic() + 10
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    http.post("/_sandbox/chat/send", json={"user_id": 1001, "first_name": "Ann", "text": "third"})
    while len(received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    poller.join(timeout=5)
    assert [update["message"]["text"] for _, update in received] == ["/start", "hello", "third"]
    assert {secret for secret, _ in received} == {"s3cret"}
    assert http.get(f"/bot{TOKEN}/getWebhookInfo").json()["result"]["url"] == ""
    polls = [call for call in sandbox.app.extensions["sandbox"].calls("getUpdates") if call["status"] == 200]
    assert polls[0]["params"]["allowed_updates"] == ["message", "callback_query", "my_chat_member",
                                                     "pre_checkout_query"]
    assert not poller.is_alive()


def test_unasked_the_poller_leaves_a_webhook_alone_and_stops(sandbox, receiver):
    # Given a bot whose updates go to a deployment's webhook
    url, _ = receiver
    http = httpx.Client(base_url=sandbox.url, timeout=5)
    http.post(f"/bot{TOKEN}/setWebhook", json={"url": "https://deployed.example/hook"})
    # When the poller starts without TGSHOP_DELETE_WEBHOOK
    stop = threading.Event()
    poller = start_poller(TOKEN, url, "s3cret", stop=stop, api_base_url=sandbox.url, poll_timeout=1)
    poller.join(timeout=10)
    stop.set()
    # Then the webhook is still there, and the poller stopped saying why
    assert http.get(f"/bot{TOKEN}/getWebhookInfo").json()["result"]["url"] == "https://deployed.example/hook"
    assert sandbox.app.extensions["sandbox"].calls("deleteWebhook") == []
    assert not poller.is_alive() and "TGSHOP_DELETE_WEBHOOK" in str(poller.failure)


def test_a_real_bot_is_prepared_safely_before_the_stack_starts(sandbox):
    http = httpx.Client(base_url=sandbox.url, timeout=5)
    http.post(f"/bot{TOKEN}/setWebhook", json={"url": "https://deployed.example/hook"})
    state = sandbox.app.extensions["sandbox"]
    # A webhook stops the start, naming the switch that would delete it, and stays
    with pytest.raises(PollerError, match="TGSHOP_DELETE_WEBHOOK=yes"):
        prepare_real_bot(RealBot(TOKEN, sandbox.url))
    assert http.get(f"/bot{TOKEN}/getWebhookInfo").json()["result"]["url"] == "https://deployed.example/hook"
    # Asked, it is deleted; and the command menu is set in every language
    prepare_real_bot(RealBot(TOKEN, sandbox.url, delete_webhook=True))
    assert http.get(f"/bot{TOKEN}/getWebhookInfo").json()["result"]["url"] == ""
    menus = state.calls("setMyCommands")
    assert [call["params"].get("language_code") for call in menus] == [None, "zh", "ru"]
    assert all(call["status"] == 200 for call in menus)
    assert [command["command"] for command in menus[0]["params"]["commands"]] == list(COMMANDS)


def test_the_stack_refuses_to_start_on_a_bot_with_a_webhook(sandbox, monkeypatch):
    from devstack.localenv import Ports, free_ports
    from devstack.stack import LocalStack

    httpx.post(f"{sandbox.url}/bot{TOKEN}/setWebhook", json={"url": "https://deployed.example/hook"})
    for name, value in {"TGSHOP_SANDBOX": "off", "TELEGRAM_BOT_TOKEN": TOKEN,
                        "TGSHOP_TELEGRAM_API": sandbox.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TGSHOP_DELETE_WEBHOOK", raising=False)
    stack = LocalStack(Ports(*free_ports(3)))
    with pytest.raises(PollerError, match="deployed.example"):
        stack.start()
    assert stack.emulator is None and stack.api_process is None  # nothing was started
    stack.stop()


def test_the_real_bot_switch():
    assert real_bot_from({"TELEGRAM_BOT_TOKEN": "1:x"}) is None
    real = real_bot_from({"TGSHOP_SANDBOX": "off", "TELEGRAM_BOT_TOKEN": "777:real-token"})
    assert real.environment() == {"TELEGRAM_BOT_TOKEN": "777:real-token", "TGSHOP_BOT_TOKEN": "777:real-token",
                                  "TELEGRAM_API_BASE_URL": "https://api.telegram.org", "GIFTS_DRY_RUN": "true"}
    assert not real.delete_webhook and not real.real_gifts
    asked = real_bot_from({"TGSHOP_SANDBOX": "off", "TELEGRAM_BOT_TOKEN": "777:real-token",
                           "TGSHOP_DELETE_WEBHOOK": "yes", "TGSHOP_REAL_GIFTS": "yes"})
    assert asked.delete_webhook and asked.environment()["GIFTS_DRY_RUN"] == "false"
    # In the API process chalice has put the fake token back; the carried one wins.
    carried = real_bot_from({"TGSHOP_SANDBOX": "off", "TELEGRAM_BOT_TOKEN": "123456:LOCAL-TOKEN",
                             "TGSHOP_BOT_TOKEN": "777:real-token"})
    assert carried.token == "777:real-token"
    with pytest.raises(PollerError):
        real_bot_from({"TGSHOP_SANDBOX": "off"})
    with pytest.raises(PollerError):
        real_bot_from({"TGSHOP_SANDBOX": "off", "TELEGRAM_BOT_TOKEN": "123456:LOCAL-TOKEN"})


def test_set_webhook_sends_the_secret_our_updates_and_the_menus(sandbox, capsys):
    environ = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "hook-secret_1",
               "TELEGRAM_API_BASE_URL": sandbox.url}
    assert main(["set-webhook", "https://abc.execute-api.us-east-1.amazonaws.com/api/"], environ) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["url"] == "https://abc.execute-api.us-east-1.amazonaws.com/api/telegram/webhook"
    assert info["allowed_updates"] == ["message", "callback_query", "my_chat_member", "pre_checkout_query"]
    state = sandbox.app.extensions["sandbox"]
    hook = state.calls("setWebhook")[0]
    assert hook["status"] == 200 and hook["params"]["secret_token"] == "hook-secret_1"
    assert hook["params"]["max_connections"] == 40
    menus = state.calls("setMyCommands")
    assert [call["params"].get("language_code") for call in menus] == [None, "zh", "ru"]
    assert all(call["status"] == 200 for call in menus)
    [button] = state.calls("setChatMenuButton")
    assert button["status"] == 200
    assert button["params"]["menu_button"] == {"type": "web_app", "text": "Store", "web_app": {
        "url": "https://abc.execute-api.us-east-1.amazonaws.com/api/store"}}
    assert main(["webhook-info"], environ) == 0
    assert json.loads(capsys.readouterr().out)["url"].endswith("/telegram/webhook")


def test_set_webhook_refuses_plain_http_and_missing_settings(capsys):
    with pytest.raises(AdminError):
        webhook_url("http://example.com")
    assert webhook_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/telegram/webhook"
    assert main(["set-webhook", "https://x.example"], {}) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err
    assert len(command_menus()) == 3
