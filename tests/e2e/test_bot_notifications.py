"""Notifications outside a conversation: operator alerts and the send bucket shared by all Lambdas."""
from __future__ import annotations

from chalicelib.adapters.dynamodb.throttle import SharedSendBucket


def test_an_alert_goes_to_the_admin_chat_once_per_cooldown_as_plain_text(container, calls, clock):
    for _ in range(3):
        container.notices.alert("stars-low", "Too few Stars <for> order & co")
    sent = calls("sendMessage")
    assert len(sent) == 1
    assert sent[0]["params"]["chat_id"] == 999 and "parse_mode" not in sent[0]["params"]
    assert sent[0]["status"] == 200
    clock.advance(minutes=11)
    container.notices.alert("stars-low", "still low")
    assert len(calls("sendMessage")) == 2


def sleeper(clock, slept):
    def sleep(seconds):
        slept.append(seconds)
        clock.advance(seconds=seconds)
    return sleep


def test_the_shared_bucket_lets_five_sends_through_per_200_ms(container, clock):
    slept = []
    bucket = SharedSendBucket(clock.now, sleeper(clock, slept))
    other_lambda = SharedSendBucket(clock.now, sleeper(clock, slept))
    start = clock.now()
    results = [(bucket if index % 2 else other_lambda).acquire() for index in range(26)]
    assert results == [True] * 26
    # 26 sends asked for at once: five per 200 ms slot, so the last one waits a whole second.
    assert 0.8 < (clock.now() - start).total_seconds() <= 1.0


def test_the_shared_bucket_gives_up_after_its_budget(container, clock):
    slept = []
    frozen = SharedSendBucket(clock.now, slept.append, tokens_per_slot=1, max_wait_seconds=0.5)
    for _ in range(5):
        frozen.acquire()
    assert frozen.acquire() is False
    assert sum(slept) < 5
