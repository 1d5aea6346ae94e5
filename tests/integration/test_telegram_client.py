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


def test_server_errors_on_a_repeatable_method_back_off_with_jitter_then_succeed(sandbox):
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="getMyStarBalance", error_code=502, times=2))
    sleeps = []
    assert client_for(sandbox, sleeps=sleeps).call("getMyStarBalance", {})["amount"] > 0
    assert len(sleeps) == 2 and all(0 < pause <= 4.5 for pause in sleeps)


def test_server_errors_that_persist_leave_the_outcome_unknown(sandbox):
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="getMyStarBalance", error_code=500, times=50))
    with pytest.raises(TelegramOutcomeUnknown):
        client_for(sandbox).call("getMyStarBalance", {})
    assert len(sandbox.extensions["sandbox"].calls("getMyStarBalance")) == MAX_ATTEMPTS


@pytest.mark.parametrize("method, params", [
    ("giftPremiumSubscription", {"user_id": 7, "month_count": 3, "star_count": 1000}),
    ("sendMessage", {"chat_id": 5, "text": "Payment received"}),
])
def test_a_server_error_after_telegram_acted_is_never_retried(sandbox, method, params):
    """Gifted (or sent), then 502: a retry would gift (or say it) twice. The outcome is unknown."""
    state = sandbox.extensions["sandbox"]
    state.add_fault(FaultRule(method=method, error_code=502, after_acting=True))
    sleeps = []

    with pytest.raises(TelegramOutcomeUnknown):
        client_for(sandbox, sleeps=sleeps).call(method, params)

    assert [call["status"] for call in state.calls(method)] == [502] and sleeps == []


def test_gifted_then_502_then_400_is_still_unknown_never_a_refusal(sandbox):
    state = sandbox.extensions["sandbox"]
    state.add_fault(FaultRule(method="giftPremiumSubscription", error_code=502, after_acting=True))
    state.add_fault(FaultRule(method="giftPremiumSubscription", error_code=400, description="Bad Request: nope"))
    balance = state.star_balance

    with pytest.raises(TelegramOutcomeUnknown):
        client_for(sandbox).call("giftPremiumSubscription", {"user_id": 7, "month_count": 3, "star_count": 1000})

    assert state.star_balance == balance - 1000 and len(state.calls("giftPremiumSubscription")) == 1


def test_a_rate_limit_is_retried_for_any_method_telegram_did_not_act(sandbox):
    state = sandbox.extensions["sandbox"]
    state.add_fault(FaultRule(method="giftPremiumSubscription", error_code=429, retry_after=1))
    balance = state.star_balance

    client_for(sandbox).call("giftPremiumSubscription", {"user_id": 7, "month_count": 3, "star_count": 1000})

    assert [call["status"] for call in state.calls("giftPremiumSubscription")] == [429, 200]
    assert state.star_balance == balance - 1000


def test_a_request_that_may_have_arrived_is_never_reported_unreachable():
    """A 5xx, then connection failures: an earlier attempt may have reached Telegram, so the outcome is
    unknown. "Unreachable" promises that nothing arrived, and a caller may then safely try again."""
    attempts = []

    def answer(request):
        attempts.append(request)
        if len(attempts) == 1:
            return httpx.Response(502, json={"ok": False, "error_code": 502, "description": "Bad Gateway"})
        raise httpx.ConnectError("refused")

    with pytest.raises(TelegramOutcomeUnknown):
        client_for(transport=httpx.MockTransport(answer)).call("getMyStarBalance", {})
    assert len(attempts) == MAX_ATTEMPTS


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
