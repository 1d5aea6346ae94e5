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


class _Request:
    def __init__(self, path: str, stage: str = "api", proto: str | None = None) -> None:
        self.context = {"stage": stage, "path": path}
        self.headers = {"x-forwarded-proto": proto} if proto else {}


def test_behind_api_gateway_links_and_cookies_carry_the_stage_and_https_makes_the_cookie_secure():
    from chalicelib.api.panel_session import PANEL_COOKIE, base_path, cookie_header

    deployed = _Request("/api/panel/dashboard", proto="https")
    assert base_path(deployed) == "/api"
    cookie = cookie_header(deployed, PANEL_COOKIE, "panel", "token", 60)
    assert cookie == "tgshop_panel=token; Path=/api/panel; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
    local = _Request("/panel/dashboard")
    assert base_path(local) == "" and "Secure" not in cookie_header(local, PANEL_COOKIE, "panel", "t", 60)


def test_exported_cells_never_start_a_formula():
    from chalicelib.api.views_panel import csv_response

    body = csv_response("x.csv", ("a", "b"), [("=HYPERLINK(1)", "-5"), ("plain", 3)]).body
    assert body.splitlines()[1] == "'=HYPERLINK(1),'-5" and body.splitlines()[2] == "plain,3"


def test_an_operator_alert_ends_with_the_panel_link_when_a_panel_is_configured():
    import logging

    from chalicelib.domain.notices import Notices
    from tests.fakes import FixedClock, InMemoryGuardStore, InMemoryUserStore, RecordingMessenger

    messenger = RecordingMessenger()
    notices = Notices(InMemoryUserStore(), messenger, InMemoryGuardStore(), FixedClock(NOW), 999, 600,
                      logging.getLogger("tests.panel"), link_for=lambda key: panel_link("https://shop.example", key))
    notices.alert("needs-review:01ABC", "Order 01ABC needs review")
    notices.alert("stock", "no link for this one")
    assert messenger.texts == [(999, "⚠️ Order 01ABC needs review\nhttps://shop.example/panel/orders/01ABC"),
                               (999, "⚠️ no link for this one")]


def test_the_flash_message_goes_in_the_query_before_the_fragment():
    from chalicelib.api.panel_session import with_flash

    assert with_flash("/panel/tron#settings-exchange", "saved") == "/panel/tron?ok=saved#settings-exchange"
    assert with_flash("/panel/settings?language=ru#texts", "a b") == "/panel/settings?language=ru&ok=a%20b#texts"
    assert with_flash("/panel/payments", "done") == "/panel/payments?ok=done"
