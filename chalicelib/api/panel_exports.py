"""CSV exports of the operator panel: orders, payments and ledger entries of a range of UTC days (at most 31)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from chalice import Blueprint

from chalicelib.api.http import guarded, parse_query
from chalicelib.api.openapi import web_page
from chalicelib.api.panel_session import PANEL_COOKIE, browser_route
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.operator_roles import OPERATOR_PREFIX, Role

panel_exports = Blueprint(__name__)
MAX_DAYS = 31


def _container():
    from chalicelib.container import get_container

    return get_container()


def _days(request) -> list[date]:
    from chalicelib.api.panel_forms import OrdersQuery

    query = parse_query(request.query_params, OrdersQuery)
    today = _container().clock.now().date()
    first = date.fromisoformat(query.day_from) if query.day_from else today
    last = date.fromisoformat(query.day_to) if query.day_to else today
    if not 0 <= (last - first).days < MAX_DAYS:
        raise ValidationFailed(f"day_to: from day_from up to {MAX_DAYS} days after it", code="RANGE_INVALID",
                               field="day_to")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


@panel_exports.route("/panel/exports/{name}", methods=["GET"])
@web_page
@guarded
@browser_route(panel_exports, "panel", PANEL_COOKIE, OPERATOR_PREFIX, Role.VIEWER, page=False)
def export(request, session, name: str):
    from chalicelib.api.views_panel import csv_response

    container = _container()
    days = _days(request)
    label = f"{days[0].isoformat()}_{days[-1].isoformat()}"
    container.distributors.record_action(session.actor(), "export", name, first=days[0].isoformat(),
                                         last=days[-1].isoformat())
    if name == "orders.csv":
        since = datetime.combine(days[0], time(0), tzinfo=timezone.utc)
        orders = container.panel_reads.orders_created(since, since + timedelta(days=len(days)))
        return csv_response(f"orders-{label}.csv",
                            ("order_id", "created_at", "kind", "product_id", "owner_id", "status", "amount_micros",
                             "paid_micros", "currency", "payment_method", "payment_tx", "failure_reason"),
                            ((o.order_id, o.created_at.isoformat(), o.kind, o.product_id, o.owner_id, o.status.value,
                              o.amount_micros, o.paid_micros, o.currency, o.payment_method, o.payment_tx,
                              o.failure_reason) for o in orders))
    if name == "payments.csv":
        payments = [p for day in days for p in container.payments.booked_of_day(day)]
        return csv_response(f"payments-{label}.csv",
                            ("transaction_id", "received_at", "outcome", "reason", "amount_micros", "currency",
                             "to_address", "from_address", "order_id", "credited_micros"),
                            ((p.transaction_id, p.received_at.isoformat(), p.outcome, p.reason, p.amount_micros,
                              p.currency, p.to_address, p.from_address, p.order_id, p.credited_micros)
                             for p in payments))
    if name == "ledger.csv":
        entries = [e for day in days for e in container.ledger.entries_of_day(day)]
        return csv_response(f"ledger-{label}.csv",
                            ("entry_id", "posted_at", "purpose", "currency", "account", "amount_micros", "order_id",
                             "transaction_id", "memo"),
                            ((e.entry_id, e.posted_at.isoformat(), e.purpose.value, e.currency, line.account,
                              line.amount_micros, e.order_id, e.transaction_id, e.memo)
                             for e in entries for line in e.lines))
    raise NotFound(f"no export {name!r}: orders.csv, payments.csv or ledger.csv", code="EXPORT_NOT_FOUND")
