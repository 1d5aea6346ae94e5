"""Everything a client sends, as pydantic models: request bodies (unknown fields and wrong types are refused,
naming the field) and query strings (`http.parse_query`; unknown parameters are ignored, a bad value is
refused naming the parameter). Route modules import this lazily: pydantic stays out of `app.py`."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr,
                      field_validator)

from chalicelib.domain.codes import CodeStatus
from chalicelib.domain.distributor_desk import CSV_ROWS_DEFAULT, CSV_ROWS_MAX

MAX_CURSOR_LENGTH = 2048
_DIGITS = re.compile(r"[0-9]{1,9}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _calendar_day(value: str) -> str:
    if not _DAY.fullmatch(value):
        raise ValueError("must be a date like 2026-11-25")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a calendar date") from None
    return value


Day = Annotated[StrictStr, Field(pattern=_DAY.pattern, description="a UTC date, YYYY-MM-DD"),
                AfterValidator(_calendar_day)]


# ---------------------------------------------------------------------------------------------- bodies
class CreateOrderRequest(BaseModel):
    """`product_id` and `payment_method`; every other field is the product's own choice, which the product
    validates (for Premium: `recipient_user_id`)."""

    model_config = ConfigDict(extra="allow")

    product_id: StrictStr = Field(min_length=1, max_length=64)
    payment_method: StrictStr = Field(default="trc20", min_length=1, max_length=32)

    def choice(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


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
    payment_method: StrictStr = Field(default="trc20", min_length=1, max_length=32)


Amount = Annotated[Decimal, Field(max_digits=14, decimal_places=2, description="USDT, at most two decimal places")]


class TopUpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(decimal_places=2, description="USDT; the product checks its limits")


class WalletAdjustmentRequest(BaseModel):
    """An operator's correction: a positive amount credits the wallet, a negative one debits it."""

    model_config = ConfigDict(extra="forbid")

    owner_id: StrictStr = Field(pattern=r"^(user:[1-9][0-9]{0,15}|dist:[A-Za-z0-9_-]{1,64})$")
    amount: Amount
    reason: StrictStr = Field(min_length=1, max_length=200)
    request_id: StrictStr = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class ReconciliationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: Day | None = None  # None: today so far (UTC), which only the service's clock knows

    @property
    def day_date(self) -> date | None:
        return None if self.day is None else date.fromisoformat(self.day)


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: StrictStr = Field(min_length=1, max_length=64)


# ---------------------------------------------------------------------------------------------- query strings
def _whole_number(value: object) -> object:
    """Query values arrive as text: only plain ASCII digits count (no sign, spaces, `_` or decimals)."""
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError("must be a whole number")
        return int(value)
    return value


QueryInt = Annotated[int, BeforeValidator(_whole_number)]
Cursor = Annotated[StrictStr, Field(max_length=MAX_CURSOR_LENGTH)]  # opaque: the service decodes it


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PageQuery(Query):
    """`?limit=&cursor=` of a short list (orders)."""

    limit: QueryInt = Field(default=20, ge=1, le=100)
    cursor: Cursor | None = None


class LongPageQuery(PageQuery):
    """`?limit=&cursor=` of a long list (codes, redemptions, audit entries)."""

    limit: QueryInt = Field(default=50, ge=1, le=200)


class CodesQuery(LongPageQuery):
    status: CodeStatus | None = None


class AuditQuery(LongPageQuery):
    day: Day | None = None  # None: today (UTC), which only the handler's clock knows

    @field_validator("day", mode="before")
    @classmethod
    def _blank_is_today(cls, value: object) -> object:
        return value or None  # `?day=` has always meant today


class DayPath(Query):
    """A `{day}` in a route's path."""

    day: Day

    @property
    def day_date(self) -> date:
        return date.fromisoformat(self.day)


class TrendQuery(Query):
    days: QueryInt = Field(default=30, ge=1, le=365)


class CsvQuery(Query):
    """One part of a code export: `cursor` is the row the part starts at (the previous part's
    `X-Next-Cursor`), `rows` how many rows it holds."""

    cursor: QueryInt = Field(default=0, ge=0, le=10_000_000)
    rows: QueryInt = Field(default=CSV_ROWS_DEFAULT, ge=1, le=CSV_ROWS_MAX)
