"""The one Telegram client against the sandbox: what is retried, how long, and what is never retried."""
from __future__ import annotations

import httpx
import pytest

from chalicelib.adapters.telegram import MAX_ATTEMPTS, TelegramClient
from chalicelib.domain.ports.telegram import TelegramError, TelegramOutcomeUnknown, TelegramUnreachable
from devstack.sandbox import FaultRule, create_sandbox_app

TOKEN = "123456:CLIENT-TEST"


@pytest.fixture
def sandbox():
    return create_sandbox_app()


def client_for(sandbox=None, transport=None, sleeps=None, budget=20.0):
    transport = transport or httpx.WSGITransport(app=sandbox)
    return TelegramClient("http://sandbox", TOKEN, timeout_seconds=5, retry_budget_seconds=budget,
                          transport=transport, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_a_call_returns_telegrams_result(sandbox):
    message = client_for(sandbox).call("sendMessage", {"chat_id": 5, "text": "hi", "reply_markup": None})
    assert message["chat"]["id"] == 5
    assert "reply_markup" not in sandbox.extensions["sandbox"].calls("sendMessage")[0]["params"]


def test_retry_after_is_honoured(sandbox):
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="sendMessage", error_code=429, retry_after=7, times=1))
    sleeps = []
    client_for(sandbox, sleeps=sleeps).call("sendMessage", {"chat_id": 5, "text": "hi"})
    assert sleeps == [7.0]


def test_server_errors_back_off_with_jitter_then_succeed(sandbox):
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="sendMessage", error_code=502, times=2))
    sleeps = []
    client_for(sandbox, sleeps=sleeps).call("sendMessage", {"chat_id": 5, "text": "hi"})
    assert len(sleeps) == 2 and all(0 < pause <= 4.5 for pause in sleeps)


def test_server_errors_that_persist_leave_the_outcome_unknown(sandbox):
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="sendMessage", error_code=500, times=50))
    with pytest.raises(TelegramOutcomeUnknown):
        client_for(sandbox).call("sendMessage", {"chat_id": 5, "text": "hi"})
    assert len(sandbox.extensions["sandbox"].calls("sendMessage")) == MAX_ATTEMPTS


def test_a_client_error_is_raised_at_once_with_telegrams_description(sandbox):
    with pytest.raises(TelegramError) as refused:
        client_for(sandbox).call("sendMessage", {"chat_id": 5, "text": ""})
    assert refused.value.permanent and "message text is empty" in refused.value.description
    assert len(sandbox.extensions["sandbox"].calls("sendMessage")) == 1


def test_connection_failures_are_retried_then_reported_unreachable():
    attempts = []

    def refuse(request):
        attempts.append(request)
        raise httpx.ConnectError("refused")

    with pytest.raises(TelegramUnreachable):
        client_for(transport=httpx.MockTransport(refuse)).call("getMe", {})
    assert len(attempts) == MAX_ATTEMPTS


def test_the_retry_budget_bounds_the_total_wait(sandbox):
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="sendMessage", error_code=429, retry_after=30,
                                                      times=5))
    clock = {"now": 0.0}
    import time as real_time

    sleeps = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(real_time, "monotonic", lambda: clock["now"])

        def sleep(seconds):
            sleeps.append(seconds)
            clock["now"] += seconds

        client = TelegramClient("http://sandbox", TOKEN, timeout_seconds=5, retry_budget_seconds=20,
                                transport=httpx.WSGITransport(app=sandbox), sleep=sleep)
        with pytest.raises(TelegramUnreachable):
            client.call("sendMessage", {"chat_id": 5, "text": "hi"})
    assert sleeps == []  # waiting 30 s would overrun the 20 s budget: give up at once
