"""What the browser pages send, as pydantic models: form fields (unknown fields and bad values are refused,
naming the field) and the orders filter's query string. Imported lazily by the page modules."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.api.requests import Amount, Day, Query, QueryInt
from chalicelib.domain.orders import OrderStatus

Text = Field(min_length=1, max_length=300)


class Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignInForm(Form):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenSignInForm(Form):
    token: str = Field(min_length=1, max_length=256)


class ReasonForm(Form):
    reason: str = Text


class DeliveredForm(ReasonForm):
    proof: str = Text


class CreditForm(ReasonForm):
    owner_id: str = Field(pattern=r"^(user:[1-9][0-9]{0,15}|dist:[A-Za-z0-9]{1,64})$")


class AttachForm(ReasonForm):
    order_id: str = Field(pattern=r"^[A-Za-z0-9]{1,64}$")


class ReturnedForm(ReasonForm):
    return_tx: str = Field(pattern=r"^[0-9a-fA-F]{64}$")


class AdjustForm(ReasonForm):
    amount: Amount
    request_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


Version = Field(default="", max_length=40, pattern=r"^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+\+00:00$")


class PricesForm(Form):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)   # one field per product: CatalogDesk checks
    version: str = Version      # the setting's version the page showed

    def prices(self) -> dict[str, str]:
        return {name: str(value) for name, value in (self.model_extra or {}).items()}


class PlansForm(Form):
    plans: str = Field(min_length=2, max_length=20_000)
    version: str = Version


class TextsForm(Form):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)   # one field per text key: BotTexts checks
    language: Literal["en", "zh", "ru"]
    version: str = Version

    def texts(self) -> dict[str, str]:
        return {key: str(value) for key, value in (self.model_extra or {}).items()}


class LimitsForm(Form):
    version: str = Version
    min: str = Field(min_length=1, max_length=20)
    max: str = Field(min_length=1, max_length=20)


class TronSettingForm(Form):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)   # one field per value: TronSettingsDesk checks
    version: str = Version

    def values(self) -> dict[str, str]:
        return {name: str(value) for name, value in (self.model_extra or {}).items()}


class PackagesForm(Form):
    packages: str = Field(min_length=2, max_length=20_000)
    version: str = Version


class StockForm(ReasonForm):
    asset: Literal["TRX", "USDT", "ENERGY"]
    amount: Decimal = Field(decimal_places=6, max_digits=20, description="TRX, USDT, or energy units")
    request_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("must not be zero")
        return value


TronAddress = Field(min_length=1, max_length=64)


class AddressForm(Form):
    address: str = TronAddress
    version: str = Version


class ReplaceAddressForm(AddressForm):
    old: str = TronAddress


class DistributorForm(Form):
    name: str = Field(min_length=1, max_length=100)
    telegram_user_id: int | None = Field(default=None, gt=0, lt=2**53)

    @field_validator("telegram_user_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None


class OperatorForm(Form):
    name: str = Field(min_length=2, max_length=32)
    role: Literal["viewer", "operator", "owner"]
    password: str = Field(min_length=12, max_length=256)


class ReconcileForm(Form):
    day: Day


class BuyPackForm(Form):
    plan_id: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000)
    payment_method: Literal["balance", "trc20"]


class TopUpForm(Form):
    amount: Decimal = Field(gt=0, decimal_places=2)


class CodeForm(Form):
    code: str = Field(min_length=1, max_length=64)


class OrdersQuery(Query):
    status: OrderStatus | None = None
    product_id: str | None = Field(default=None, max_length=64)
    buyer: QueryInt | None = Field(default=None, ge=1)
    day_from: Day | None = None
    day_to: Day | None = None
    cursor: str | None = Field(default=None, max_length=4096)

    @field_validator("status", "product_id", "buyer", "day_from", "day_to", "cursor", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None


class PayoutsQuery(Query):
    state: Literal["SIGNED", "SCHEDULED", "LANDED", "REVERTED", "CANCELLED"] = "SIGNED"

    @field_validator("state", mode="before")
    @classmethod
    def _blank_is_signed(cls, value: object) -> object:
        return value or "SIGNED"


class BuyerQuery(Query):
    owner_id: str | None = Field(default=None, pattern=r"^(user:[1-9][0-9]{0,15}|dist:[A-Za-z0-9]{1,64})$")

    @field_validator("owner_id", mode="before")
    @classmethod
    def _plain_user_id(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().isdigit():
            return f"user:{value.strip()}"
        return value or None
