"""Redeem codes, redemptions, distributor figures and failed-attempt buckets in storage."""
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
        (code, user), and the counters. CHANGED: the code moved on; DUPLICATE: the redemption exists."""

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
class Bucket:
    tokens: int
    refilled_at: int     # epoch seconds of the last whole refill


class BucketStore(Protocol):
    def read(self, bucket_ids: Sequence[str], now: datetime) -> dict[str, Bucket]:
        """Live buckets (an expired one reads as absent, i.e. full)."""

    def swap(self, bucket_id: str, seen: Bucket | None, new: Bucket, expires_at: int, now: datetime) -> bool:
        """Write `new` on condition the bucket is still `seen` (absent or expired when None)."""
