"""The TRON routes' models (chalicelib/api/tron.py): the buyer's quote and the operators' payouts and hot
wallet. Apart from the routes so that importing the app builds none of them: the routes import them on use."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from chalicelib.api.requests import PageQuery, Query


# ---------------------------------------------------------------------- requests
class QuoteQuery(Query):
    trx_amount: Decimal | None = Field(default=None, gt=0, decimal_places=6, max_digits=18)
    usdt_amount: Decimal | None = Field(default=None, gt=0, decimal_places=2, max_digits=18)

    @model_validator(mode="after")
    def _one_amount(self) -> QuoteQuery:
        if (self.trx_amount is None) == (self.usdt_amount is None):
            raise ValueError("give exactly one of trx_amount and usdt_amount")
        return self


class PayoutsQuery(PageQuery):
    state: Literal["SIGNED", "SCHEDULED"] = "SIGNED"


class CancelPayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: StrictStr = Field(min_length=3, max_length=300)


class StockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    asset: Literal["TRX", "USDT", "ENERGY"]
    amount: Decimal = Field(decimal_places=6, max_digits=20, description="TRX, USDT, or energy units")
    reason: StrictStr = Field(min_length=3, max_length=300)
    request_id: StrictStr = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")

    @model_validator(mode="after")
    def _whole_energy(self) -> StockRequest:
        if self.asset == "ENERGY" and self.amount != self.amount.to_integral_value():
            raise ValueError("amount: energy is counted in whole units")
        return self


# ---------------------------------------------------------------------- responses
class QuoteView(BaseModel):
    trx: str
    usdt: str
    rate: str
    spread_percent: str
    note: str = "the price is locked on the order until it expires"


class PayoutView(BaseModel):
    payout_id: str
    state: str
    action: str
    purpose: str
    to_address: str
    amount: int = Field(description="sun of TRX, USDT micros or staked sun")
    booked_amount: int
    tx_id: str
    tx_ids: list[str]
    attempt: int
    expires_at: datetime
    created_at: datetime
    order_id: str | None = None
    landed_at: datetime | None = None
    fee_sun: int = 0
    last_error: str | None = None

    @classmethod
    def of(cls, payout: Any) -> PayoutView:
        return cls(payout_id=payout.payout_id, state=payout.state.value, action=payout.action.value,
                   purpose=payout.purpose, to_address=payout.to_address, amount=payout.amount_sun,
                   booked_amount=payout.booked_amount, tx_id=payout.tx_id, tx_ids=list(payout.tx_ids),
                   attempt=payout.attempt, expires_at=payout.expires_at, created_at=payout.created_at,
                   order_id=payout.order_id, landed_at=payout.landed_at, fee_sun=payout.fee_sun,
                   last_error=payout.last_error)


class HotWalletView(BaseModel):
    address: str
    trx_sun: int
    usdt_micros: int
    delegatable_energy_sun: int
    energy_per_trx_micros: int
    paid_today: dict[str, int]
    books: dict[str, int]
    limits: dict[str, int]


class PayoutPage(BaseModel):
    payouts: list[PayoutView]
    cursor: str | None = None


class StockAnswer(BaseModel):
    result: Literal["APPLIED", "DUPLICATE"]
