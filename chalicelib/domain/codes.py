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
from decimal import Decimal
from enum import StrEnum
from typing import Any, Mapping, Protocol, Sequence

from chalicelib.domain.catalog import PRODUCTS
from chalicelib.domain.errors import NotFound
from chalicelib.domain.money import format_amount, to_micros
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.ports import Clock, SettingsRepository

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford base32
CODE_LENGTH = 16                                 # 16 symbols x 5 bits = 80 bits
CODE_BITS = CODE_LENGTH * 5
MAX_ATTEMPTS = 8                                 # clash resolution gives up (and fails the order) after this
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})

STATS_SHARDS = 8        # a distributor's counters are spread over this many items (see docs/codes.md)


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

    def status(self, now: datetime) -> CodeStatus:
        """Precedence: inactive, then depleted, then expired."""
        if self.state == CodeState.INACTIVE:
            return CodeStatus.INACTIVE
        if self.used_count >= self.max_uses:
            return CodeStatus.DEPLETED
        if now >= self.expires_at:
            return CodeStatus.EXPIRED
        return CodeStatus.ACTIVE

    @property
    def depleted(self) -> bool:
        """Counted in codes_depleted: used up and not deactivated."""
        return self.state == CodeState.ACTIVE and self.used_count >= self.max_uses

    @property
    def live(self) -> bool:
        """Counted in the live-by-expiry counters (active or expired): neither used up nor deactivated."""
        return self.state == CodeState.ACTIVE and self.used_count < self.max_uses

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


# ---------------------------------------------------------------------------------------------- orders
def fulfillment_status(order: Order) -> str:
    if order.status == OrderStatus.DELIVERING:
        return "processing"
    if order.status == OrderStatus.DELIVERED:
        return "completed"
    if order.status in (OrderStatus.FAILED, OrderStatus.NEEDS_REVIEW):
        return "failed"
    return "pending"


def distributor_of(order: Order) -> str | None:
    prefix, _, distributor_id = order.owner_id.partition(":")
    return distributor_id if prefix == "dist" and distributor_id else None


# ---------------------------------------------------------------------------------------------- plans
PLANS_SETTING = "plans"
PLAN_CACHE_SECONDS = 30
DEFAULT_MAX_USES = 1
DEFAULT_VALID_DAYS = 180


@dataclass(frozen=True)
class Plan:
    plan_id: str
    product_id: str
    month_count: int
    star_count: int
    codes_per_pack: int
    unit_price_micros: int          # one code, whatever its max_uses
    max_uses: int
    valid_days: int
    max_quantity: int               # packs per order

    def codes_for(self, quantity: int) -> int:
        return quantity * self.codes_per_pack

    def price_for(self, quantity: int) -> int:
        return self.codes_for(quantity) * self.unit_price_micros

    def as_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "product_id": self.product_id, "month_count": self.month_count,
                "codes_per_pack": self.codes_per_pack, "unit_price": format_amount(self.unit_price_micros, 2),
                "pack_price": format_amount(self.price_for(1), 2), "currency": "USDT", "max_uses": self.max_uses,
                "valid_days": self.valid_days, "max_quantity": self.max_quantity}


def default_plan_setting() -> dict[str, dict[str, Any]]:
    """Wholesale plans every environment starts with; operators edit the "plans" setting later."""
    return {
        "codes_3m_x10": {"product_id": "premium_3m", "codes_per_pack": 10, "unit_price": "12"},
        "codes_6m_x10": {"product_id": "premium_6m", "codes_per_pack": 10, "unit_price": "18"},
        "codes_12m_x10": {"product_id": "premium_12m", "codes_per_pack": 10, "unit_price": "30"},
        "codes_3m_x1000": {"product_id": "premium_3m", "codes_per_pack": 1000, "unit_price": "11"},
        "codes_3m_shared10": {"product_id": "premium_3m", "codes_per_pack": 1, "unit_price": "115",
                              "max_uses": 10},
    }


def parse_plan(plan_id: str, raw: Any, max_codes_per_order: int) -> Plan:
    """A plan from its settings entry; ValueError names what is wrong."""
    if not isinstance(raw, Mapping):
        raise ValueError("a plan must be an object")
    product = PRODUCTS.get(str(raw.get("product_id")))
    if product is None:
        raise ValueError(f"product_id {raw.get('product_id')!r} is not in the catalog")

    def whole(name: str, default: int | None, low: int, high: int) -> int:
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}")
        return value

    codes_per_pack = whole("codes_per_pack", None, 1, max_codes_per_order)
    unit_price = to_micros(Decimal(str(raw.get("unit_price"))))
    if unit_price <= 0:
        raise ValueError("unit_price must be positive")
    largest = max_codes_per_order // codes_per_pack
    return Plan(plan_id=plan_id, product_id=product.product_id, month_count=product.month_count,
                star_count=product.star_count, codes_per_pack=codes_per_pack, unit_price_micros=unit_price,
                max_uses=whole("max_uses", DEFAULT_MAX_USES, 1, 1_000_000),
                valid_days=whole("valid_days", DEFAULT_VALID_DAYS, 1, 3650),
                max_quantity=min(whole("max_quantity", largest, 1, largest), largest))


class PlanBook:
    """Plans from the settings table, read at most every PLAN_CACHE_SECONDS per container. An entry an
    operator broke is left out (and reported by `problems`) rather than breaking every plan."""

    def __init__(self, settings: SettingsRepository, clock: Clock, max_codes_per_order: int) -> None:
        self._settings = settings
        self._clock = clock
        self._max_codes = max_codes_per_order
        self._cached: tuple[datetime, dict[str, Plan], dict[str, str]] | None = None

    def _load(self) -> tuple[dict[str, Plan], dict[str, str]]:
        now = self._clock.now()
        if self._cached and now - self._cached[0] < timedelta(seconds=PLAN_CACHE_SECONDS):
            return self._cached[1], self._cached[2]
        stored = self._settings.get(PLANS_SETTING)
        raw = stored if isinstance(stored, Mapping) else default_plan_setting()
        plans: dict[str, Plan] = {}
        problems: dict[str, str] = {}
        for plan_id, entry in raw.items():
            try:
                plans[plan_id] = parse_plan(plan_id, entry, self._max_codes)
            except (ValueError, ArithmeticError) as error:
                problems[plan_id] = str(error)
        self._cached = (now, plans, problems)
        return plans, problems

    def plans(self) -> list[Plan]:
        return sorted(self._load()[0].values(), key=lambda plan: (plan.month_count, plan.max_uses,
                                                                  plan.codes_per_pack, plan.plan_id))

    def problems(self) -> dict[str, str]:
        return dict(self._load()[1])

    def plan(self, plan_id: str) -> Plan:
        plan = self._load()[0].get(plan_id)
        if plan is None:
            raise NotFound(f"plan_id {plan_id!r} is not an offered plan", code="PLAN_NOT_FOUND", field="plan_id")
        return plan


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
