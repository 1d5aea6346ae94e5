"""Request and response models of the admin routes for orders and payments needing a person
(chalicelib/api/admin_desks.py): the same checks the panel's forms make, for automation with X-Api-Key."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Reason = Field(min_length=1, max_length=300, description="why; kept in the audit log and on the order")


class OrderActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["retry_delivery", "mark_delivered", "refund", "cancel"]
    reason: str = Reason
    proof: str | None = Field(default=None, min_length=1, max_length=300, description="mark_delivered only")

    @model_validator(mode="after")
    def _proof_for_delivered(self) -> OrderActionRequest:
        if self.action == "mark_delivered" and not self.proof:
            raise ValueError("proof is required to mark an order delivered")
        return self


class OrderActionResponse(BaseModel):
    order_id: str
    status: str
    paid_micros: int | None = None
    failure_reason: str | None = None


class PaymentResolutionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    how: Literal["credit", "attach", "returned", "dismiss"]
    reason: str = Reason
    owner_id: str | None = Field(default=None, pattern=r"^(user:[1-9][0-9]{0,15}|dist:[A-Za-z0-9]{1,64})$")
    order_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,64}$")
    return_tx: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")

    @model_validator(mode="after")
    def _what_each_needs(self) -> PaymentResolutionRequest:
        needed = {"credit": "owner_id", "attach": "order_id", "returned": "return_tx"}.get(self.how)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"{needed} is required to {self.how} a payment")
        return self


class PaymentResolutionResponse(BaseModel):
    transaction_id: str
    how: str
    reason: str
    by: str
    at: str
    entry_id: str | None = None
    owner_id: str | None = None
    order_id: str | None = None
    return_tx: str | None = None
    amount_micros: int | None = None


class ReviewItemView(BaseModel):
    transaction_id: str
    outcome: str
    reason: str | None = None
    amount_micros: int | None = None
    currency: str
    to_address: str
    received_at: str
    order_id: str | None = None
    in_suspense: bool


class ReviewQueueResponse(BaseModel):
    payments: list[ReviewItemView]
    cursor: str | None = None
