"""Token buckets of failed attempts (redeem-code guessing): a bucket per user and per IP address.

Each failure takes one token; tokens come back one per `refill_seconds` up to `burst`. An empty bucket
refuses further attempts (429 with Retry-After) before anything is looked up. Buckets are integers kept
with conditional writes (the state read is the condition), so concurrent failures never lose a take.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from chalicelib.domain.ports.codes import Bucket, BucketStore

SWAP_ROUNDS = 5


@dataclass(frozen=True)
class BucketPolicy:
    burst: int
    refill_seconds: int


def level(bucket: Bucket | None, policy: BucketPolicy, now_s: int) -> Bucket:
    """The bucket after the refills due by `now_s` (a missing bucket is full)."""
    if bucket is None:
        return Bucket(policy.burst, now_s)
    gained = max(0, now_s - bucket.refilled_at) // policy.refill_seconds
    tokens = min(policy.burst, bucket.tokens + gained)
    if tokens >= policy.burst:
        return Bucket(policy.burst, now_s)
    return Bucket(tokens, bucket.refilled_at + gained * policy.refill_seconds)


def seconds_until_token(bucket: Bucket, policy: BucketPolicy, now_s: int) -> int:
    if bucket.tokens >= 1:
        return 0
    return max(1, bucket.refilled_at + policy.refill_seconds - now_s)


class FailureLimiter:
    def __init__(self, store: BucketStore, policies: dict[str, BucketPolicy], namespace: str) -> None:
        """`policies` by key kind: {"user": ..., "ip": ...}; keys look like "user:42"."""
        self._store = store
        self._policies = policies
        self._namespace = namespace

    def _bucket_id(self, key: str) -> str:
        return f"bucket#{self._namespace}#{key}"

    def _policy(self, key: str) -> BucketPolicy:
        return self._policies[key.partition(":")[0]]

    def blocked_for(self, keys: Sequence[str], now: datetime) -> tuple[int, dict[str, Bucket]]:
        """Seconds until every bucket has a token again (0: an attempt may go ahead), and the buckets as
        read, which `take` uses as its first guess."""
        now_s = int(now.timestamp())
        stored = self._store.read([self._bucket_id(key) for key in keys], now)
        wait = max((seconds_until_token(level(stored.get(self._bucket_id(key)), self._policy(key), now_s),
                                        self._policy(key), now_s) for key in keys), default=0)
        return wait, stored

    def take(self, keys: Sequence[str], now: datetime, seen: dict[str, Bucket] | None = None) -> None:
        """One failed attempt: a token from each bucket (an empty bucket stays empty). `seen`: the buckets
        as last read; a bucket that changed since is read again."""
        now_s = int(now.timestamp())
        for key in keys:
            bucket_id, policy = self._bucket_id(key), self._policy(key)
            guess = seen.get(bucket_id) if seen is not None else None
            known = seen is not None
            for _ in range(SWAP_ROUNDS):
                if not known:
                    guess = self._store.read([bucket_id], now).get(bucket_id)
                current = level(guess, policy, now_s)
                taken = Bucket(max(0, current.tokens - 1), current.refilled_at)
                expires_at = now_s + policy.burst * policy.refill_seconds  # full again by then: absent = full
                if self._store.swap(bucket_id, guess, taken, expires_at, now):
                    break
                known = False
