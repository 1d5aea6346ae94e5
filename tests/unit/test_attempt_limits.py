"""Redeem-attempt buckets: a token is taken before the look-up, failures keep it, anything else gives it
back into the run it came from; concurrent takes never pass the burst."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from chalicelib.domain.attempt_limits import AttemptLimiter, BucketPolicy, Permit
from tests.fakes import InMemoryBucketStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
USER, IP = "user:42", "ip:203.0.113.9"


def a_limiter(store: InMemoryBucketStore, user_burst: int = 3, ip_burst: int = 5) -> AttemptLimiter:
    return AttemptLimiter(store, {"user": BucketPolicy(user_burst, 60), "ip": BucketPolicy(ip_burst, 10)}, "test")


def test_the_burst_then_a_wait_of_one_refill_then_one_more():
    limiter = a_limiter(InMemoryBucketStore())

    granted = [limiter.take([USER], NOW).granted for _ in range(4)]

    assert granted == [True, True, True, False]
    assert limiter.take([USER], NOW).wait_seconds == 60
    assert limiter.take([USER], NOW + timedelta(seconds=30)).wait_seconds == 30
    assert limiter.take([USER], NOW + timedelta(seconds=60)).granted
    assert not limiter.take([USER], NOW + timedelta(seconds=60)).granted


def test_attempts_that_are_not_failures_give_their_tokens_back():
    limiter = a_limiter(InMemoryBucketStore())

    for _ in range(10):
        permit = limiter.take([USER, IP], NOW)
        assert permit.granted
        limiter.give_back(permit)

    assert [limiter.take([USER], NOW).granted for _ in range(4)] == [True, True, True, False]


def test_a_refused_attempt_holds_nothing_and_returns_what_it_took():
    store = InMemoryBucketStore()
    limiter = a_limiter(store, user_burst=3, ip_burst=1)
    assert limiter.take(["user:1", IP], NOW).granted    # the address's only token

    refused = limiter.take([USER, IP], NOW)

    assert refused == Permit(wait_seconds=10)
    assert [limiter.take([USER], NOW).granted for _ in range(4)] == [True, True, True, False]


def test_a_token_is_not_given_back_into_a_later_run():
    """Taken, then the bucket refilled by time and a new run began: the old token came back already."""
    store = InMemoryBucketStore()
    limiter = a_limiter(store, user_burst=2)
    slow = limiter.take([USER], NOW)
    later = NOW + timedelta(minutes=5)
    assert limiter.take([USER], later).granted and limiter.take([USER], later).granted

    limiter.give_back(slow)

    assert not limiter.take([USER], later).granted


def test_forty_threads_at_once_get_exactly_the_burst():
    store = InMemoryBucketStore()
    limiter = a_limiter(store, user_burst=10)
    barrier = threading.Barrier(40)
    granted: list[bool] = []

    def attempt() -> None:
        barrier.wait()
        granted.append(limiter.take([USER], NOW).granted)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    [thread.start() for thread in threads]
    [thread.join(10) for thread in threads]

    assert granted.count(True) == 10 and len(granted) == 40
    assert store.writes == 10


def test_a_refused_attempt_writes_nothing():
    store = InMemoryBucketStore()
    limiter = a_limiter(store, user_burst=1)
    limiter.take([USER], NOW)
    writes = store.writes

    assert not limiter.take([USER], NOW).granted and store.writes == writes
