"""Request bodies as pydantic models: unknown fields and wrong types are refused, naming the field."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class CreateOrderRequest(BaseModel):
    """`product_id` and `payment_method`; every other field is the product's own choice, which the product
    validates (for Premium: `recipient_user_id`)."""

    model_config = ConfigDict(extra="allow")

    product_id: StrictStr = Field(min_length=1, max_length=64)
    payment_method: StrictStr = Field(default="trc20", min_length=1, max_length=32)

    def choice(self) -> dict[str, Any]:
        return dict(self.model_extra or {})
