"""Request bodies of the redeem-code routes: unknown fields and wrong types are refused, naming the field."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator


class CreateDistributorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(min_length=1, max_length=100)
    telegram_user_id: StrictInt | None = Field(default=None, gt=0, lt=2**53)

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        value = value.strip()
        if not value or not value.isprintable():
            raise ValueError("must be printable text")
        return value


class CreateCodeOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: StrictStr = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(ge=1, le=1_000_000)


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: StrictStr = Field(min_length=1, max_length=64)
