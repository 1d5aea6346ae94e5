"""Orders: one model for every product and payment method, and the named transitions every write follows."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    PAID_LATE = "PAID_LATE"
    WAITING_STARS = "WAITING_STARS"
    DELIVERING = "DELIVERING"
    DELIVERED = "DELIVERED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    WAITING_FUNDS = "WAITING_FUNDS"      # paid, but the hot wallet holds too little TRX or energy to pay out now


class OrderKind(StrEnum):
    """The kinds this shop sells today; each is a product module (chalicelib/domain/products/)."""

    PREMIUM_GIFT = "PREMIUM_GIFT"        # bought by a buyer for themselves or a friend
    CODE_PACK = "CODE_PACK"              # redeem codes bought by a distributor
    REDEMPTION_GIFT = "REDEMPTION_GIFT"  # a Premium gift prepaid by a redeemed code


S = OrderStatus


@dataclass(frozen=True)
class Transition:
    """One named step of the state machine: from any of `sources` to `target`."""

    name: str
    sources: frozenset[OrderStatus]
    target: OrderStatus

    @property
    def leaves_pending(self) -> bool:
        return S.PENDING in self.sources and self.target != S.PENDING


def _step(name: str, sources: set[OrderStatus], target: OrderStatus) -> Transition:
    return Transition(name, frozenset(sources), target)


MARK_PAID = _step("mark_paid", {S.PENDING}, S.PAID)
MARK_PAID_LATE = _step("mark_paid_late", {S.EXPIRED, S.CANCELLED}, S.PAID_LATE)
EXPIRE = _step("expire", {S.PENDING}, S.EXPIRED)
CANCEL = _step("cancel", {S.PENDING}, S.CANCELLED)
START_DELIVERY = _step("start_delivery", {S.PAID, S.PAID_LATE, S.WAITING_STARS}, S.DELIVERING)
START_FULFILMENT = _step("start_fulfilment", {S.PAID, S.PAID_LATE}, S.DELIVERING)
MARK_DELIVERED = _step("mark_delivered", {S.DELIVERING}, S.DELIVERED)
MARK_FAILED = _step("mark_failed", {S.DELIVERING}, S.FAILED)
FLAG_FOR_REVIEW = _step("flag_for_review", {S.DELIVERING}, S.NEEDS_REVIEW)
# Back to PAID only when the request provably never reached Telegram (connection refused),
# back to WAITING_STARS only when the Star balance is too low.
RETURN_TO_PAID = _step("return_to_paid", {S.DELIVERING}, S.PAID)
WAIT_FOR_STARS = _step("wait_for_stars", {S.DELIVERING}, S.WAITING_STARS)
# On-chain payouts (issue 12): checked before promising, claimed with the signed transaction stored.
WAIT_FOR_FUNDS = _step("wait_for_funds", {S.PAID, S.PAID_LATE}, S.WAITING_FUNDS)
START_PAYOUT = _step("start_payout", {S.PAID, S.PAID_LATE, S.WAITING_FUNDS}, S.DELIVERING)

TRANSITIONS_BY_NAME: dict[str, Transition] = {transition.name: transition for transition in (
    MARK_PAID, MARK_PAID_LATE, EXPIRE, CANCEL, START_DELIVERY, START_FULFILMENT, MARK_DELIVERED, MARK_FAILED,
    FLAG_FOR_REVIEW, RETURN_TO_PAID, WAIT_FOR_STARS, WAIT_FOR_FUNDS, START_PAYOUT)}

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    status: frozenset(step.target for step in TRANSITIONS_BY_NAME.values() if status in step.sources)
    for status in OrderStatus}

PAYABLE = frozenset({S.PENDING, S.EXPIRED, S.CANCELLED})
READY_TO_DELIVER = START_DELIVERY.sources
# Statuses kept in the sparse work index, keyed by the time the next job should look at them.
OPEN_STATUSES = frozenset({S.PENDING, S.PAID, S.PAID_LATE, S.WAITING_STARS, S.DELIVERING, S.WAITING_FUNDS})


def sources_of(target: OrderStatus) -> frozenset[OrderStatus]:
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def can_transition(source: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[source]


@dataclass(frozen=True, kw_only=True)
class Order:
    """One order of any product, paid by any method. A plain dataclass, not a validating model: every order is
    made by our own code (a product's draft, a payment method) or read back from our table, and building a
    pydantic validator for these fields cost every cold container some 14 ms before its first order read."""

    order_id: str
    kind: str                          # a registered product's kind (OrderKind for today's products)
    owner_id: str                      # "user:<telegram id>" or "dist:<distributor id>"
    status: OrderStatus
    product_id: str
    amount_micros: int                 # what the buyer sends: the price plus `surcharge_micros`
    surcharge_micros: int | None = None    # the unique-amount suffix that tells this order's payment apart
    currency: str = "USDT"
    payment_method: str = "trc20"
    network: str | None = "TRC20"
    pay_to: str | None = None
    created_at: datetime
    expires_at: datetime | None = None
    payable_until: datetime | None = None   # expiry plus the monitoring window: late payments match until then
    status_changed_at: datetime
    buyer_user_id: int | None = None
    recipient_user_id: int | None = None
    month_count: int | None = None
    star_count: int | None = None
    plan_id: str | None = None
    quantity: int | None = None
    payment_tx: str | None = None
    paid_micros: int | None = None
    paid_at: datetime | None = None
    paid_late: bool = False
    delivered_at: datetime | None = None
    failure_reason: str | None = None
    redemption_id: str | None = None
    notify_chat_id: int | None = None
    notify_message_id: int | None = None
    language: str | None = None
    fulfillment_total: int | None = None
    fulfillment_done: int | None = None
    fulfillment_error: str | None = None
    code_max_uses: int | None = None        # CODE_PACK: the plan's terms when ordered
    code_valid_days: int | None = None
    details: dict[str, Any] = field(default_factory=dict)   # what a newer product keeps of its own

    def __post_init__(self) -> None:
        if not isinstance(self.status, OrderStatus):   # read back from the table, or named in a test
            object.__setattr__(self, "status", OrderStatus(self.status))
