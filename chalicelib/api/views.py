"""How domain objects look in JSON answers: handlers map a service's result with one of these."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.money import format_amount, places_for
from chalicelib.domain.orders import Order
from chalicelib.domain.products import Offer
from chalicelib.domain.shared import iso

if TYPE_CHECKING:
    from chalicelib.domain.codes import RedeemCode, Redemption
    from chalicelib.domain.distributors import AuditEntry, Distributor
    from chalicelib.domain.products.code_pack import Plan
    from chalicelib.domain.ledger import HistoryLine
    from chalicelib.domain.wallet import Balance
    from chalicelib.domain.ports.common import Page
    from chalicelib.domain.redemptions import RedeemResult


def offer_view(offer: Offer) -> dict[str, Any]:
    return {"product_id": offer.product_id, **offer.facts, "price": format_amount(offer.price_micros, 2),
            "currency": offer.currency}


def order_view(order: Order, amount_places: int, facts: dict[str, Any] | None = None,
               payment: dict[str, Any] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "order_id": order.order_id,
        "kind": order.kind,
        "status": order.status.value,
        "product_id": order.product_id,
        "payment_method": order.payment_method,
        "amount": format_amount(order.amount_micros, places_for(order.currency, amount_places)),
        "currency": order.currency,
        "network": order.network,
        "pay_to": order.pay_to,
        "created_at": iso(order.created_at),
        "expires_at": iso(order.expires_at),
        **(facts or {}),
        "payment": payment or {},
    }
    if order.paid_at is not None:
        view["paid_at"] = iso(order.paid_at)
    if order.delivered_at is not None:
        view["delivered_at"] = iso(order.delivered_at)
    if order.failure_reason:
        view["failure_reason"] = order.failure_reason
    return view


def code_view(code: RedeemCode, now: datetime) -> dict[str, Any]:
    from chalicelib.domain.codes import format_code   # codes load with a code's view, not with every answer

    return {"code": format_code(code.code), "order_id": code.order_id, "months": code.month_count,
            "max_uses": code.max_uses, "used_count": code.used_count, "expires_at": iso(code.expires_at),
            "status": code.status(now).value}


def redemption_view(redemption: Redemption) -> dict[str, Any]:
    from chalicelib.domain.codes import format_code

    view = {"redemption_id": redemption.redemption_id, "code": format_code(redemption.code),
            "months": redemption.month_count, "status": redemption.status.value,
            "code_order_id": redemption.code_order_id, "redeemed_at": iso(redemption.redeemed_at),
            "updated_at": iso(redemption.updated_at)}
    if redemption.failure_reason:
        view["failure_reason"] = redemption.failure_reason
    return view


def code_order_view(order: Order, amount_places: int) -> dict[str, Any]:
    from chalicelib.domain.products.code_pack import fulfillment_status  # a buyer's order view needs no code pack

    view: dict[str, Any] = {
        "order_id": order.order_id, "kind": order.kind, "status": order.status.value,
        "plan_id": order.plan_id, "quantity": order.quantity, "product_id": order.product_id,
        "months": order.month_count, "max_uses": order.code_max_uses, "valid_days": order.code_valid_days,
        "amount": format_amount(order.amount_micros, amount_places), "currency": order.currency,
        "network": order.network, "pay_to": order.pay_to, "created_at": iso(order.created_at),
        "expires_at": iso(order.expires_at) if order.expires_at else None,
        "fulfillment_status": fulfillment_status(order), "delivered_count": order.fulfillment_done or 0,
        "total_count": order.fulfillment_total or 0, "fulfillment_error": order.fulfillment_error,
    }
    if order.paid_at is not None:
        view["paid_at"] = iso(order.paid_at)
    if order.delivered_at is not None:
        view["completed_at"] = iso(order.delivered_at)
    return view


def plan_view(plan: Plan) -> dict[str, Any]:
    return {"plan_id": plan.plan_id, "product_id": plan.product_id, "month_count": plan.month_count,
            "codes_per_pack": plan.codes_per_pack, "unit_price": format_amount(plan.unit_price_micros, 2),
            "pack_price": format_amount(plan.price_for(1), 2), "currency": "USDT", "max_uses": plan.max_uses,
            "valid_days": plan.valid_days, "max_quantity": plan.max_quantity}


def balance_view(balance: Balance) -> dict[str, Any]:
    return {"currency": balance.currency, "balance": format_amount(balance.balance_micros, 2)}


def wallet_line_view(line: HistoryLine) -> dict[str, Any]:
    view: dict[str, Any] = {"entry_id": line.entry_id, "purpose": line.purpose.value,
                            "amount": format_amount(line.amount_micros, 2), "currency": line.currency,
                            "posted_at": iso(line.posted_at)}
    for name in ("order_id", "transaction_id", "memo"):
        if getattr(line, name):
            view[name] = getattr(line, name)
    return view


def page_view(name: str, page: Page, view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """One page of a list: its items under `name`, and the cursor of the next page (null at the end)."""
    return {name: [view(item) for item in page.items], "cursor": page.cursor}


def list_view(name: str, items: Iterable[Any], view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return {name: [view(item) for item in items]}


def distributor_view(distributor: Distributor) -> dict[str, Any]:
    """Never the token's hash."""
    return distributor.as_dict()


def issued_token_view(distributor: Distributor, token: str, note: str) -> dict[str, Any]:
    """The one answer that carries a bearer token: a new distributor or a rotated token."""
    return {"distributor": distributor_view(distributor), "token": token, "token_note": note}


def audit_entry_view(entry: AuditEntry) -> dict[str, Any]:
    return entry.as_dict()


def redeem_result_view(result: RedeemResult) -> dict[str, Any]:
    return result.as_dict()
