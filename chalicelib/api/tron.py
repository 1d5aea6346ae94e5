"""TRON routes: the buyer's exchange quote (X-Telegram-Init-Data) and the operators' JSON view of payouts
and the hot wallet (X-Api-Key), in typed models (chalicelib/api/tron_models.py) that an operator panel can use
as they are."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.auth import admin_actor, current_buyer
from chalicelib.api.http import guarded, json_response, parse_body, parse_query
from chalicelib.api.openapi import operation

tron = Blueprint(__name__)
M = "chalicelib.api.tron_models:"      # where the document finds this module's models


def _container():
    from chalicelib.container import get_container

    return get_container()


def _send(model: Any, status: int = 200):
    return json_response(model.model_dump(mode="json"), status)


# ---------------------------------------------------------------------- buyer
@tron.route("/tron/exchange/quote", methods=["GET"])
@operation(summary="Quote TRX for USDT at the posted rate and spread", tag="buyers", auth="buyer",
           query=f"{M}QuoteQuery", response=f"{M}QuoteView")
@guarded
def exchange_quote():
    from chalicelib.api.tron_models import QuoteQuery, QuoteView
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
    from chalicelib.api.tron_models import HotWalletView

    admin_actor(tron.current_request)
    state = _container().payout_desk.hot_wallet()
    account = state.account
    return _send(HotWalletView(address=account.address, trx_sun=account.balance_sun, usdt_micros=account.usdt_micros,
                               delegatable_energy_sun=account.delegatable_energy_sun,
                               energy_per_trx_micros=account.energy_per_trx_micros, paid_today=state.paid_today,
                               books=state.books, limits=vars(state.limits)))


@tron.route("/admin/payouts", methods=["GET"])
@operation(summary="Open payouts (signed, or scheduled), oldest first", tag="admin", auth="admin",
           query=f"{M}PayoutsQuery", response=f"{M}PayoutPage", errors=(503,))
@guarded
def list_payouts():
    from chalicelib.api.tron_models import PayoutPage, PayoutsQuery, PayoutView
    from chalicelib.domain.ports.payouts import PayoutState

    admin_actor(tron.current_request)
    query = parse_query(tron.current_request.query_params, PayoutsQuery)
    page = _container().payout_desk.open_payouts(PayoutState(query.state), query.limit, query.cursor)
    return _send(PayoutPage(payouts=[PayoutView.of(payout) for payout in page.items], cursor=page.cursor))


@tron.route("/admin/payouts/{payout_id}", methods=["GET"])
@operation(summary="One payout with every transaction signed for it", tag="admin", auth="admin",
           response=f"{M}PayoutView", errors=(404, 503))
@guarded
def get_payout(payout_id: str):
    from chalicelib.api.tron_models import PayoutView

    admin_actor(tron.current_request)
    return _send(PayoutView.of(_container().payout_desk.get(payout_id)))


@tron.route("/admin/payouts/{payout_id}/cancel", methods=["POST"])
@operation(summary="Cancel a payout whose transaction provably expired unlanded", tag="admin", auth="admin",
           body=f"{M}CancelPayoutRequest", response=f"{M}PayoutView", errors=(404, 409, 503))
@guarded
def cancel_payout(payout_id: str):
    from chalicelib.api.tron_models import CancelPayoutRequest, PayoutView

    request = tron.current_request
    actor = admin_actor(request)
    body = parse_body(request.raw_body, CancelPayoutRequest)
    return _send(PayoutView.of(_container().tron_desk.cancel(actor, payout_id, body.reason)))


@tron.route("/admin/tron/stock", methods=["POST"])
@operation(summary="Book TRX, USDT or energy put into (or taken from) the hot wallet", tag="admin", auth="admin",
           body=f"{M}StockRequest", response=f"{M}StockAnswer", errors=(503,))
@guarded
def book_stock():
    """Book TRX or USDT put into the hot wallet, or energy staked (negative: taken out), once per request id."""
    from chalicelib.api.tron_models import StockAnswer, StockRequest

    request = tron.current_request
    actor = admin_actor(request)
    body = parse_body(request.raw_body, StockRequest)
    written = _container().tron_desk.book_stock(actor, body.asset, body.amount, body.reason, body.request_id)
    return _send(StockAnswer(result=written.value))
