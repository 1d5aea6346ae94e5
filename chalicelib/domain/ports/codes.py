"""Redeem codes, redemptions, distributor figures and redeem-attempt buckets in storage."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Sequence

from chalicelib.domain.codes import CounterSet, RedeemCode, Redemption, RedemptionStatus, Tally
from chalicelib.domain.ports.common import Page, WriteResult


class CodeStore(Protocol):
    def get(self, code: str) -> RedeemCode | None:
        """Strongly consistent."""

    def get_many(self, codes: Sequence[str]) -> dict[str, RedeemCode]:
        """Strongly consistent; any number of codes (read in batches)."""

    def owners(self, codes: Sequence[str]) -> dict[str, tuple[str, int]]:
        """code -> (order id, sequence number) for the codes that exist; at most 100 codes."""

    def put_new(self, codes: Sequence[RedeemCode]) -> None:
        """Write codes known not to exist (batched; unprocessed items retried with backoff)."""

    def redeem(self, code: RedeemCode, redemption: Redemption, depletes: bool, tally: Tally,
               now: datetime) -> WriteResult:
        """One transaction: one more use of `code` on condition it is still ACTIVE, unexpired and has a use
        left (exactly its last use when `depletes`, else not its last), the redemption put once per
        (code, user), and the counters. CHANGED: the code moved on; DUPLICATE: the redemption exists;
        UNKNOWN: no answer came (a timeout): it may have been applied, the redemption tells."""

    def give_back(self, code: RedeemCode, redemption: Redemption, was_depleted: bool, reason: str,
                  tally: Tally, now: datetime) -> WriteResult:
        """One transaction: one use fewer (never below zero; `was_depleted` names the count read), the
        redemption ACCEPTED -> FAILED, and the counters. STALE: the redemption was settled already."""

    def deactivate(self, code: RedeemCode, was_depleted: bool, tally: Tally, now: datetime) -> WriteResult:
        """One transaction: ACTIVE -> INACTIVE on condition the uses are as read, and the counters."""

    def settle(self, redemption: Redemption, status: RedemptionStatus, reason: str | None, tally: Tally,
               now: datetime) -> WriteResult:
        """One transaction: the redemption ACCEPTED -> `status`, and the counters."""

    def add_tally(self, tally: Tally) -> None:
        """Counters of an event that writes nothing else (a refused redemption attempt)."""

    def count_issued(self, order_id: str, tally: Tally) -> bool:
        """The counters of a completed code order, at most once per order; False if already counted."""


class RedemptionStore(Protocol):
    def get(self, redemption_id: str) -> Redemption | None: ...

    def list_by_distributor(self, distributor_id: str, limit: int, cursor: str | None) -> Page:
        """Newest first, from the distributor/time index."""


class FigureStore(Protocol):
    def totals(self, distributor_id: str) -> CounterSet:
        """All-time counters (one query, whatever the number of codes)."""

    def days(self, distributor_id: str, first_day: str, last_day: str) -> dict[str, CounterSet]:
        """Day counters between two ISO dates, inclusive; days without events are absent."""


@dataclass(frozen=True)
class BucketState:
    full_at: int         # epoch seconds when the bucket is full again (at or before now: full)
    started_at: int      # epoch second the current run of takes started from a full bucket


class BucketStore(Protocol):
    """Attempt buckets (see chalicelib/domain/attempt_limits.py); every write is one conditional update
    without a read, and `expires_at` is a TTL after which the bucket is certainly full."""

    def read(self, bucket_ids: Sequence[str]) -> dict[str, BucketState]:
        """Strongly consistent; absent buckets are missing from the answer."""

    def take_first(self, bucket_id: str, now_s: int, full_at: int, expires_at: int) -> bool:
        """Start a run: `full_at` and `started_at` = now_s, on condition the bucket is full (absent, or its
        full_at <= now_s). False: it is not full (any more)."""

    def take_next(self, bucket_id: str, now_s: int, step: int, horizon: int) -> int | None:
        """full_at += step, on condition now_s < full_at <= horizon - step; expires_at = horizon. Returns
        the run (`started_at`) the token was taken from; None when the condition failed."""

    def give_back(self, bucket_id: str, step: int, run: int) -> None:
        """full_at -= step, on condition the bucket is still in run `run` (else nothing happens)."""
