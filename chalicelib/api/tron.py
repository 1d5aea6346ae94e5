"""TRON routes: the buyer's exchange quote (X-Telegram-Init-Data) and the operators' JSON view of payouts
and the hot wallet (X-Api-Key), in typed models that an operator panel can use as they are."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from chalicelib.api.auth import admin_actor, current_buyer
from chalicelib.api.http import guarded, json_response, parse_body, parse_query
from chalicelib.api.openapi import operation
from chalicelib.api.requests import PageQuery, Query

tron = Blueprint(__name__)
M = "chalicelib.api.tron:"      # where the document finds this module's models


def _container():
    from chalicelib.container import get_container

    return get_container()


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


def _send(model: BaseModel, status: int = 200):
    return json_response(model.model_dump(mode="json"), status)


# ---------------------------------------------------------------------- buyer
@tron.route("/tron/exchange/quote", methods=["GET"])
@operation(summary="Quote TRX for USDT at the posted rate and spread", tag="buyers", auth="buyer",
           query=f"{M}QuoteQuery", response=f"{M}QuoteView")
@guarded
def exchange_quote():
    from chalicelib.domain.money import format_amount, to_micros

    request = tron.current_request
    current_buyer(request)
    query = parse_query(request.query_params, QuoteQuery)
    terms = _container().trx_exchange.terms()
    if query.trx_amount is not None:
        sun = to_micros(query.trx_amount)
        price = terms.price_of(sun)
    else:
        price = to_micros(query.usdt_amount)
        sun = terms.sun_for(price)
    return _send(QuoteView(trx=format_amount(sun), usdt=format_amount(price, 2), rate=format_amount(terms.rate_micros),
                           spread_percent=str(terms.spread_percent)))


# ---------------------------------------------------------------------- operators
@tron.route("/admin/tron/hot-wallet", methods=["GET"])
@operation(summary="The hot wallet on chain, today's payouts, the books and the limits", tag="admin", auth="admin",
           response=f"{M}HotWalletView", errors=(503,))
@guarded
def hot_wallet():
    admin_actor(tron.current_request)
    state = _container().payout_desk.hot_wallet()
    account = state.account
    return _send(HotWalletView(address=account.address, trx_sun=account.balance_sun, usdt_micros=account.usdt_micros,
                               delegatable_energy_sun=account.delegatable_energy_sun,
                               energy_per_trx_micros=account.energy_per_trx_micros, paid_today=state.paid_today,
                               books=state.books, limits=vars(state.limits)))


@tron.route("/admin/payouts", methods=["GET"])
@operation(summary="Open payouts (signed, or scheduled), oldest first", tag="admin", auth="admin",
           query=f"{M}PayoutsQuery", response=f"{M}PayoutPage")
@guarded
def list_payouts():
    from chalicelib.domain.ports.payouts import PayoutState

    admin_actor(tron.current_request)
    query = parse_query(tron.current_request.query_params, PayoutsQuery)
    page = _container().payout_desk.open_payouts(PayoutState(query.state), query.limit, query.cursor)
    return _send(PayoutPage(payouts=[PayoutView.of(payout) for payout in page.items], cursor=page.cursor))


@tron.route("/admin/payouts/{payout_id}", methods=["GET"])
@operation(summary="One payout with every transaction signed for it", tag="admin", auth="admin",
           response=f"{M}PayoutView", errors=(404,))
@guarded
def get_payout(payout_id: str):
    admin_actor(tron.current_request)
    return _send(PayoutView.of(_container().payout_desk.get(payout_id)))


@tron.route("/admin/payouts/{payout_id}/cancel", methods=["POST"])
@operation(summary="Cancel a payout whose transaction provably expired unlanded", tag="admin", auth="admin",
           body=f"{M}CancelPayoutRequest", response=f"{M}PayoutView", errors=(404, 409, 503))
@guarded
def cancel_payout(payout_id: str):
    request = tron.current_request
    actor = admin_actor(request)
    body = parse_body(request.raw_body, CancelPayoutRequest)
    return _send(PayoutView.of(_container().tron_desk.cancel(actor, payout_id, body.reason)))


@tron.route("/admin/tron/stock", methods=["POST"])
@operation(summary="Book TRX, USDT or energy put into (or taken from) the hot wallet", tag="admin", auth="admin",
           body=f"{M}StockRequest", response=f"{M}StockAnswer")
@guarded
def book_stock():
    """Book TRX or USDT put into the hot wallet, or energy staked (negative: taken out), once per request id."""
    request = tron.current_request
    actor = admin_actor(request)
    body = parse_body(request.raw_body, StockRequest)
    written = _container().tron_desk.book_stock(actor, body.asset, body.amount, body.reason, body.request_id)
    return _send(StockAnswer(result=written.value))
