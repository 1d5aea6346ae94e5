"""Request bodies as pydantic models: unknown fields and wrong types are refused, naming the field."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class CreateOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=64)
    recipient_user_id: StrictInt | None = Field(default=None, gt=0, lt=2**53)
