"""The panel's pure parts: alert links, dashboard figures, roles."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.alerts import panel_link
from chalicelib.domain.errors import Forbidden, ValidationFailed
from chalicelib.domain.operators import PanelSession, Role
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.panel_figures import figures

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_an_alert_links_to_its_order_or_to_the_review_queue():
    assert panel_link("https://shop.example/api/", "needs-review:01ABC") == "https://shop.example/api/panel/orders/01ABC"
    assert panel_link("https://x", "payment:UNMATCHED") == "https://x/panel/payments"
    assert panel_link("https://x", "reconciliation:2026-11-24") == "https://x/panel/reports?day=2026-11-24"
    assert panel_link(None, "needs-review:01ABC") is None


def _order(order_id, status, created, paid=None):
    return Order(order_id=order_id, kind="PREMIUM_GIFT", owner_id="user:1", status=status, product_id="premium_3m",
                 amount_micros=15_000_000, created_at=created, status_changed_at=created, paid_micros=paid)


def test_figures_count_orders_revenue_and_conversion_per_window():
    orders = [_order("a", OrderStatus.DELIVERED, NOW, 15_000_000), _order("b", OrderStatus.PENDING, NOW),
              _order("c", OrderStatus.DELIVERED, NOW - timedelta(days=10), 16_000_000),
              _order("d", OrderStatus.NEEDS_REVIEW, NOW - timedelta(hours=2), 15_000_000)]
    shown = figures(orders, NOW, timedelta(minutes=5))
    today = shown.windows["today"]["all"]
    assert (today.orders, today.paid, today.revenue_micros) == (3, 2, 30_000_000)
    assert shown.windows["30 days"]["premium_3m"].revenue_micros == 45_000_000   # an excess is not revenue
    assert shown.pending == 1 and [order.order_id for order in shown.stuck] == ["d"]
    assert shown.daily_orders[-1] == 3 and sum(shown.daily_orders) == 4


def test_roles_nest_and_an_unknown_role_is_named():
    session = PanelSession("h", "operator:vera", Role.VIEWER, "csrf", NOW, NOW + timedelta(hours=1))
    session.require(Role.VIEWER)
    with pytest.raises(Forbidden):
        session.require(Role.OPERATOR)
    assert not session.csrf_matches(None) and not session.csrf_matches("other") and session.csrf_matches("csrf")
    with pytest.raises(ValidationFailed):
        Role.named("admin")
