"""Token buckets of redeem attempts (code guessing): a bucket per user and per IP address.

A bucket holds `burst` tokens and gains one back every `refill_seconds`. Every attempt takes a token from
each of its buckets *before* the code is looked up, so attempts in flight can never outnumber the tokens;
an empty bucket refuses the attempt (429 with Retry-After) and nothing is looked up. An attempt that turns
out not to be a failed guess (a redemption, a busy code) gives its tokens back: only failures spend them.

A bucket is one number, `full_at`: the moment it is full again (absent or past: full now). An attempt
moves it to max(full_at, now) + refill_seconds, allowed while that is at most now + burst *
refill_seconds (the generic cell rate algorithm). Each move is one conditional write that names the range
it expects, never a value read a moment ago, so concurrent takes add up instead of overwriting each
other. A run of takes starts when the bucket is full (`started_at`); a token is given back only into
the run it was taken from, because a later run has already refilled it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from chalicelib.domain.ports.codes import BucketState, BucketStore

TAKE_ROUNDS = 5          # read-and-take rounds per bucket before a contended attempt is refused


@dataclass(frozen=True)
class BucketPolicy:
    burst: int
    refill_seconds: int

    def horizon(self, now_s: int) -> int:
        """The latest `full_at` a bucket may have after a take at `now_s`."""
        return now_s + self.burst * self.refill_seconds


def wait_seconds(bucket: BucketState | None, policy: BucketPolicy, now_s: int) -> int:
    """Seconds until the bucket holds a token again (0: it holds one now)."""
    if bucket is None or bucket.full_at <= now_s:
        return 0
    return max(0, bucket.full_at + policy.refill_seconds - policy.horizon(now_s))


@dataclass(frozen=True)
class Permit:
    """The tokens one attempt holds (bucket id, its policy, the run it was taken from), or why it holds
    none: `wait_seconds` > 0 means refused, and nothing is held."""

    taken: tuple[tuple[str, BucketPolicy, int], ...] = ()
    wait_seconds: int = 0

    @property
    def granted(self) -> bool:
        return self.wait_seconds == 0


class AttemptLimiter:
    def __init__(self, store: BucketStore, policies: dict[str, BucketPolicy], namespace: str) -> None:
        """`policies` by key kind: {"user": ..., "ip": ...}; keys look like "user:42"."""
        self._store = store
        self._policies = policies
        self._namespace = namespace

    def _bucket_id(self, key: str) -> str:
        return f"bucket#{self._namespace}#{key}"

    def _policy(self, key: str) -> BucketPolicy:
        return self._policies[key.partition(":")[0]]

    def take(self, keys: Sequence[str], now: datetime) -> Permit:
        """A token from every bucket of `keys`, or none at all: the buckets are read once, and a refusal
        returns whatever was taken before answering with the longest wait."""
        now_s = int(now.timestamp())
        wanted = [(self._bucket_id(key), self._policy(key)) for key in keys]
        seen = self._store.read([bucket_id for bucket_id, _ in wanted])
        wait = max((wait_seconds(seen.get(bucket_id), policy, now_s) for bucket_id, policy in wanted), default=0)
        if wait:
            return Permit(wait_seconds=wait)
        taken: list[tuple[str, BucketPolicy, int]] = []
        for bucket_id, policy in wanted:
            run, wait = self._take_one(bucket_id, policy, seen.get(bucket_id), now_s)
            if run is None:
                self.give_back(Permit(tuple(taken)))
                return Permit(wait_seconds=wait)
            taken.append((bucket_id, policy, run))
        return Permit(tuple(taken))

    def _take_one(self, bucket_id: str, policy: BucketPolicy, seen: BucketState | None,
                  now_s: int) -> tuple[int | None, int]:
        """(the run the token came from, 0), or (None, seconds to wait)."""
        horizon = policy.horizon(now_s)
        for _ in range(TAKE_ROUNDS):
            wait = wait_seconds(seen, policy, now_s)
            if wait:
                return None, wait
            if seen is None or seen.full_at <= now_s:
                if self._store.take_first(bucket_id, now_s, now_s + policy.refill_seconds, horizon):
                    return now_s, 0
            else:
                run = self._store.take_next(bucket_id, now_s, policy.refill_seconds, horizon)
                if run is not None:
                    return run, 0
            seen = self._store.read([bucket_id]).get(bucket_id)   # it moved since it was read
        return None, 1   # contended beyond our rounds: refused, like an empty bucket (fail closed)

    def give_back(self, permit: Permit) -> None:
        """The attempt was not a failed guess: each token goes back into the run it was taken from (a
        bucket that has been full since has refilled it already)."""
        for bucket_id, policy, run in permit.taken:
            self._store.give_back(bucket_id, policy.refill_seconds, run)
