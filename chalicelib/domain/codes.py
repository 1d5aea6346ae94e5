"""Redeem codes: how a code is derived and spelled, what a code and a redemption are, the plans that sell
codes, and the counters every change of a code adds to its distributor's figures.

A code is the HMAC of (order id, sequence number, attempt) under CODE_SECRET_KEY, cut to 80 bits and
spelled in Crockford's base32 (no I, L, O or U; typed O, I and L are read as 0, 1 and 1), grouped
XXXX-XXXX-XXXX-XXXX. A retry regenerates the same codes. Attempt 0 is used unless that code already
belongs to another order (or to an earlier sequence number of the same order); then attempt 1, and so on:
reading an order's codes back tries the attempts in the same order until it finds its own item.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any, Mapping, Protocol, Sequence

from chalicelib.domain.shared import CROCKFORD_ALPHABET
from chalicelib.domain.orders import Order

ALPHABET = CROCKFORD_ALPHABET
CODE_LENGTH = 16                                 # 16 symbols x 5 bits = 80 bits
CODE_BITS = CODE_LENGTH * 5
MAX_ATTEMPTS = 8                                 # clash resolution gives up (and fails the order) after this
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})

USE_SHARDS = 16         # a code of many uses counts them on this many items (see docs/codes.md, hot codes)
STATS_SHARDS = USE_SHARDS   # a distributor's counters are spread over this many items: one per use counter
SHARDED_FROM_USES = 100 # ... from this many uses; fewer are counted on the code item itself


# ---------------------------------------------------------------------------------------------- spelling
def derive_code(secret: bytes, order_id: str, seq: int, attempt: int = 0) -> str:
    digest = hmac.new(secret, f"{order_id}:{seq}:{attempt}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:CODE_BITS // 8]).decode().translate(_TO_CROCKFORD)


def format_code(code: str) -> str:
    return "-".join(code[index:index + 4] for index in range(0, len(code), 4))


def normalize_code(text: Any) -> str | None:
    """The stored form of what a person typed, or None when it cannot be a code."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    code = text.strip().upper().translate(_TYPED)
    if len(code) != CODE_LENGTH or any(symbol not in ALPHABET for symbol in code):
        return None
    return code


def redemption_id_for(secret: bytes, code: str, user_id: int) -> str:
    """One id per (code, user): the redemption's key, so a second redemption by the same user cannot exist."""
    digest = hmac.new(secret, f"redemption:{code}:{user_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:16]).decode().rstrip("=").translate(_TO_CROCKFORD)


def stats_shard(key: str) -> int:
    return zlib.crc32(key.encode()) % STATS_SHARDS


def use_shards_for(max_uses: int) -> int:
    return USE_SHARDS if max_uses >= SHARDED_FROM_USES else 0


def shard_quota(max_uses: int, shards: int, shard: int) -> int:
    """The uses counter `shard` holds: max_uses split as evenly as it goes (the first ones one more)."""
    return max_uses // shards + (1 if shard < max_uses % shards else 0)


def day_of(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).date().isoformat()


def code_expiry(paid_at: datetime, valid_days: int) -> datetime:
    """Codes stay valid through the end of the (UTC) day `valid_days` after payment: every code of an
    order expires at the same midnight, so expiry is counted per day without reading codes."""
    last_day = paid_at.astimezone(timezone.utc).date() + timedelta(days=valid_days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------------- codes
class CodeState(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"      # deactivated by its distributor; uses stop, history stays


class CodeStatus(StrEnum):
    """What a distributor sees; derived from the stored state, the uses and the clock."""

    ACTIVE = "active"
    DEPLETED = "depleted"
    INACTIVE = "inactive"
    EXPIRED = "expired"


@dataclass(frozen=True)
class RedeemCode:
    code: str
    order_id: str
    seq: int
    distributor_id: str
    product_id: str
    month_count: int
    max_uses: int
    used_count: int
    state: CodeState
    expires_at: datetime
    created_at: datetime
    # 0: the uses are counted on the code item. Else on `use_shards` counters of their own, each with a part of
    # max_uses; the code item then holds the set of counters used up, and `used_count` is their sum when read
    # with the counters (listings) or the used-up counters' share when read alone (a redemption's read).
    use_shards: int = 0
    depleted_shards: frozenset[int] = frozenset()

    def status(self, now: datetime) -> CodeStatus:
        """Precedence: inactive, then depleted, then expired."""
        if self.state == CodeState.INACTIVE:
            return CodeStatus.INACTIVE
        if self.used_up:
            return CodeStatus.DEPLETED
        if now >= self.expires_at:
            return CodeStatus.EXPIRED
        return CodeStatus.ACTIVE

    @property
    def used_up(self) -> bool:
        if self.use_shards:
            return len(self.depleted_shards) >= self.use_shards
        return self.used_count >= self.max_uses

    @property
    def depleted(self) -> bool:
        """Counted in codes_depleted: used up and not deactivated."""
        return self.state == CodeState.ACTIVE and self.used_up

    @property
    def live(self) -> bool:
        """Counted in the live-by-expiry counters (active or expired): neither used up nor deactivated."""
        return self.state == CodeState.ACTIVE and not self.used_up

    @property
    def expiry_day(self) -> str:
        return self.expires_at.date().isoformat()

    @property
    def shard(self) -> int:
        return stats_shard(self.code)


class RedemptionStatus(StrEnum):
    ACCEPTED = "ACCEPTED"      # the use is taken and a gift order is queued
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"          # the gift failed for good; the use was given back


@dataclass(frozen=True)
class Redemption:
    redemption_id: str
    code: str
    user_id: int
    distributor_id: str
    code_order_id: str
    product_id: str
    month_count: int
    status: RedemptionStatus
    redeemed_at: datetime
    updated_at: datetime
    retail_micros: int          # the shop's price of the product when redeemed (revenue_estimate)
    gift_order_id: str
    failure_reason: str | None = None
    use_shard: int | None = None   # the use counter it took, for a code counted on several

    @property
    def stats_shard(self) -> int:
        """Its distributor counters' shard: a hot code's redemptions spread as its uses do, evenly."""
        return stats_shard(self.code) if self.use_shard is None else self.use_shard % STATS_SHARDS


# ---------------------------------------------------------------------------------------------- figures
# Counter names. Day items and the total items carry the same names; the total items also carry one
# `live#<expiry day>` counter per expiry day (codes neither used up nor deactivated, by the day they expire).
CODES_TOTAL = "codes_total"
CODES_DEPLETED = "codes_depleted"
CODES_INACTIVE = "codes_inactive"
REDEEM_ATTEMPTS = "redeem_attempts"
REDEMPTIONS = "redemptions"
REDEMPTIONS_DELIVERED = "redemptions_delivered"
REDEMPTIONS_FAILED = "redemptions_failed"
REVENUE_MICROS = "revenue_micros"
COUNTERS = (CODES_TOTAL, CODES_DEPLETED, CODES_INACTIVE, REDEEM_ATTEMPTS, REDEMPTIONS, REDEMPTIONS_DELIVERED,
            REDEMPTIONS_FAILED, REVENUE_MICROS)


@dataclass(frozen=True)
class Tally:
    """What one event adds to a distributor's counters: on the day it happened and in total."""

    distributor_id: str
    day: str
    shard: int
    counts: Mapping[str, int]
    live: Mapping[str, int] = field(default_factory=dict)   # expiry day -> change of live codes


@dataclass(frozen=True)
class CounterSet:
    """Summed counters of one period (a day, or all time)."""

    counts: Mapping[str, int]
    live: Mapping[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int:
        return int(self.counts.get(name, 0))


# ---------------------------------------------------------------------------------------------- reading back
class CodeReader(Protocol):
    def get_many(self, codes: Sequence[str]) -> dict[str, RedeemCode]: ...


def read_order_codes(store: CodeReader, secret: bytes, order_id: str, seqs: range) -> list[RedeemCode]:
    """The codes of `order_id` with these sequence numbers, in order, found by regenerating them: no index
    of codes by order is kept (each code is one write). A sequence number not written yet is left out."""
    found: dict[int, RedeemCode] = {}
    pending = [(seq, 0) for seq in seqs]
    while pending:
        lookup = [(derive_code(secret, order_id, seq, attempt), seq, attempt) for seq, attempt in pending]
        items = store.get_many(sorted({code for code, _, _ in lookup}))
        pending = []
        for code, seq, attempt in lookup:
            item = items.get(code)
            if item is not None and item.order_id == order_id and item.seq == seq:
                found[seq] = item
            elif item is not None and attempt + 1 < MAX_ATTEMPTS:
                pending.append((seq, attempt + 1))   # that code belongs to another: ours moved on
    return [found[seq] for seq in seqs if seq in found]


def expiry_for(order: Order, valid_days: int) -> datetime:
    return code_expiry(order.paid_at or order.status_changed_at, valid_days)


def today(now: datetime) -> date:
    return now.astimezone(timezone.utc).date()
