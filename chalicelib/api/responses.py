"""Everything the API answers, as pydantic models: the shapes `views.py` produces, the error shape of `http.py`,
and the source of the responses in the OpenAPI document (`openapi.py`). Amounts are decimal strings; times are
ISO 8601 strings in UTC. A product may add its own facts to an offer or an order (extra fields are allowed
there and nowhere else)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.codes import CodeStatus, RedemptionStatus
from chalicelib.domain.distributors import DistributorStatus
from chalicelib.domain.ledger import Purpose
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.settlement import PaymentOutcome

Amount = str  # a decimal string such as "12.345"
Timestamp = str  # ISO 8601, UTC


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenAnswer(BaseModel):
    """A product or payment method adds facts of its own."""

    model_config = ConfigDict(extra="allow")


# ---------------------------------------------------------------------------------------------- errors
class ErrorBody(Answer):
    code: str = Field(description="stable machine-readable code, e.g. VALIDATION_FAILED")
    message: str
    request_id: str
    field: str | None = Field(default=None, description="the field, parameter or header at fault")
    details: dict[str, Any] | None = None
    retry_after: int | None = Field(default=None, description="seconds; also sent as the Retry-After header")


class ErrorResponse(Answer):
    error: ErrorBody


# ---------------------------------------------------------------------------------------------- buyers
class Offer(OpenAnswer):
    product_id: str
    price: Amount
    currency: str


class Catalog(Answer):
    products: list[Offer]


class OrderAnswer(OpenAnswer):
    order_id: str
    kind: str
    status: OrderStatus
    product_id: str
    payment_method: str
    amount: Amount
    currency: str
    network: str | None
    pay_to: str | None
    created_at: Timestamp
    expires_at: Timestamp | None
    payment: dict[str, Any] = Field(description="how to pay it with its payment method")
    paid_at: Timestamp | None = None
    delivered_at: Timestamp | None = None
    failure_reason: str | None = None


class OrderPage(Answer):
    orders: list[OrderAnswer]
    cursor: str | None


class Balance(Answer):
    currency: str
    balance: Amount


class WalletAnswer(Answer):
    wallet: Balance


class WalletLine(Answer):
    entry_id: str
    purpose: Purpose
    amount: Amount
    currency: str
    posted_at: Timestamp
    order_id: str | None = None
    transaction_id: str | None = None
    memo: str | None = None


class WalletHistory(Answer):
    entries: list[WalletLine]
    cursor: str | None


class RedeemAnswer(Answer):
    redemption_id: str
    status: RedemptionStatus
    months: int


# ---------------------------------------------------------------------------------------------- distributors
class DistributorBody(Answer):
    distributor_id: str
    name: str
    telegram_user_id: int | None
    status: DistributorStatus
    created_at: Timestamp
    updated_at: Timestamp


class DistributorAnswer(Answer):
    distributor: DistributorBody


class IssuedToken(Answer):
    distributor: DistributorBody
    token: str = Field(description="the bearer token; shown once")
    token_note: str


class PlanBody(Answer):
    plan_id: str
    product_id: str
    month_count: int
    codes_per_pack: int
    unit_price: Amount
    pack_price: Amount
    currency: str
    max_uses: int
    valid_days: int
    max_quantity: int


class PlanList(Answer):
    plans: list[PlanBody]


class CodeOrderAnswer(Answer):
    order_id: str
    kind: str
    status: OrderStatus
    plan_id: str | None
    quantity: int | None
    product_id: str
    months: int | None
    max_uses: int | None
    valid_days: int | None
    amount: Amount
    currency: str
    network: str | None
    pay_to: str | None
    created_at: Timestamp
    expires_at: Timestamp | None
    fulfillment_status: str
    delivered_count: int
    total_count: int
    fulfillment_error: str | None
    paid_at: Timestamp | None = None
    completed_at: Timestamp | None = None


class CodeOrderPage(Answer):
    orders: list[CodeOrderAnswer]
    cursor: str | None


class CodeBody(Answer):
    code: str
    order_id: str
    months: int
    max_uses: int
    used_count: int
    expires_at: Timestamp
    status: CodeStatus


class CodePage(Answer):
    codes: list[CodeBody]
    cursor: str | None


class RedemptionBody(Answer):
    redemption_id: str
    code: str
    months: int
    status: RedemptionStatus
    code_order_id: str | None
    redeemed_at: Timestamp
    updated_at: Timestamp
    failure_reason: str | None = None


class RedemptionPage(Answer):
    redemptions: list[RedemptionBody]
    cursor: str | None


class Summary(Answer):
    codes_total: int
    codes_active: int
    codes_expired: int
    codes_depleted: int
    codes_inactive: int
    redeem_attempts: int
    redemptions: int
    redemptions_delivered: int
    redemptions_failed: int
    revenue_estimate: Amount
    currency: str
    as_of: Timestamp


class TrendPoint(Answer):
    date: str
    redemptions: int
    redemptions_delivered: int
    redemptions_failed: int
    redeem_attempts: int
    codes_issued: int
    revenue_estimate: Amount


class SalesTrend(Answer):
    days: int
    points: list[TrendPoint]


# ---------------------------------------------------------------------------------------------- admin
class AuditEntryBody(Answer):
    entry_id: str
    at: Timestamp
    action: str
    outcome: str
    actor: str
    target: str | None
    request_id: str | None
    source_ip: str | None
    details: dict[str, Any] | None


class AuditPage(Answer):
    day: str
    entries: list[AuditEntryBody]
    cursor: str | None


class WalletAdjustmentAnswer(Answer):
    result: str = Field(description="whether this call wrote the entry or found it written by an earlier one")
    wallet: Balance


class ReconciliationReport(Answer):
    day: str
    generated_at: Timestamp
    until: Timestamp
    complete: bool
    ok: bool
    counts: dict[str, int]
    totals: dict[str, Any]
    differences_total: int
    differences: list[dict[str, Any]]
    unsettled_accounts: list[Any]


# ---------------------------------------------------------------------------------------------- webhooks, health
class TransferResult(Answer):
    transaction_id: str
    outcome: PaymentOutcome
    reason: str | None = None
    order_id: str | None = None
    replayed: Literal[True] | None = None


class TransferResults(Answer):
    results: list[TransferResult]


class TelegramAnswer(Answer):
    ok: Literal[True]
    result: str


class HealthAnswer(Answer):
    status: Literal["ok", "degraded"]
    version: str
    checks: dict[str, Literal["ok", "unreachable"]]
