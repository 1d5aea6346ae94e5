"""How domain objects look in JSON answers."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.money import format_amount
from chalicelib.domain.orders import Order


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def order_view(order: Order, amount_places: int) -> dict[str, Any]:
    view: dict[str, Any] = {
        "order_id": order.order_id,
        "kind": order.kind.value,
        "status": order.status.value,
        "product_id": order.product_id,
        "amount": format_amount(order.amount_micros, amount_places),
        "currency": order.currency,
        "network": order.network,
        "pay_to": order.pay_to,
        "created_at": iso(order.created_at),
        "expires_at": iso(order.expires_at),
    }
    if order.recipient_user_id is not None:
        view["recipient_user_id"] = order.recipient_user_id
        view["month_count"] = order.month_count
    if order.paid_at is not None:
        view["paid_at"] = iso(order.paid_at)
    if order.delivered_at is not None:
        view["delivered_at"] = iso(order.delivered_at)
    if order.failure_reason:
        view["failure_reason"] = order.failure_reason
    return view
