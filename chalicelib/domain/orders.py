"""Orders: one model for every kind of product, and the state machine every write must follow."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


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


class OrderKind(StrEnum):
    PREMIUM_GIFT = "PREMIUM_GIFT"      # bought and paid in USDT by a buyer
    CODE_PACK = "CODE_PACK"            # redeem codes bought by a distributor
    REDEMPTION_GIFT = "REDEMPTION_GIFT"  # a Premium gift prepaid by a redeemed code


S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.PAID, S.EXPIRED, S.CANCELLED}),
    S.EXPIRED: frozenset({S.PAID_LATE}),
    S.CANCELLED: frozenset({S.PAID_LATE}),
    S.PAID: frozenset({S.DELIVERING, S.WAITING_STARS}),
    S.PAID_LATE: frozenset({S.DELIVERING, S.WAITING_STARS}),
    S.WAITING_STARS: frozenset({S.DELIVERING}),
    # Back to PAID only when the request provably never reached Telegram (connection refused),
    # back to WAITING_STARS only when Telegram answered that the balance is too low.
    S.DELIVERING: frozenset({S.DELIVERED, S.FAILED, S.NEEDS_REVIEW, S.PAID, S.WAITING_STARS}),
    S.DELIVERED: frozenset(),
    S.FAILED: frozenset(),
    S.NEEDS_REVIEW: frozenset(),
}

PAYABLE = frozenset({S.PENDING, S.EXPIRED, S.CANCELLED})
READY_TO_DELIVER = frozenset({S.PAID, S.PAID_LATE, S.WAITING_STARS})
# Statuses kept in the sparse work index, keyed by the time the next job should look at them.
OPEN_STATUSES = frozenset({S.PENDING, S.PAID, S.PAID_LATE, S.WAITING_STARS, S.DELIVERING})


def sources_of(target: OrderStatus) -> frozenset[OrderStatus]:
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def can_transition(source: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[source]


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    kind: OrderKind
    owner_id: str                      # "user:<telegram id>" or "dist:<distributor id>"
    status: OrderStatus
    product_id: str
    amount_micros: int
    currency: str = "USDT"
    network: str = "TRC20"
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


def owner_for_user(user_id: int) -> str:
    return f"user:{user_id}"


def owner_for_distributor(distributor_id: str) -> str:
    return f"dist:{distributor_id}"
