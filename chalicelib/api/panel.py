"""The operator panel's pages (GET): server-rendered HTML under /panel. Signing in and out is in
panel_sign_in.py, the actions that change something in panel_actions.py; they resolve the operator's session
through panel_session.browser_route."""
from __future__ import annotations

from datetime import timedelta

from chalice import Blueprint, Response

from chalicelib.api.http import guarded, parse_query
from chalicelib.api.openapi import web_page
from chalicelib.api.panel_session import PANEL_COOKIE, browser_route, redirect
from chalicelib.domain.operator_roles import OPERATOR_PREFIX, Role

panel = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]
LEDGER_ACCOUNTS = ("suspense:USDT", "refunds:USDT", "adjustments:USDT")
ORDERS_PAGE = 100   # orders a list page shows; "Older orders" reads the next


def _container():
    from chalicelib.container import get_container

    return get_container()


def page(role: Role = Role.VIEWER):
    return browser_route(panel, "panel", PANEL_COOKIE, OPERATOR_PREFIX, role)


def present(request, session, template: str, active: str, status: int = 200, **context):
    """A panel page in its chrome (the navigation with `active` marked, the operator, the CSRF token)."""
    from chalicelib.api.views_panel import chrome
    from chalicelib.panel import render

    return render(template, status, **chrome(request, session, "panel", active), **context)


@panel.route("/panel", methods=["GET"])
@web_page
@guarded
def panel_home():
    return redirect(panel.current_request, "/panel/dashboard")


@panel.route("/panel/static/{name}", methods=["GET"])
@web_page
@guarded
def panel_static(name: str):
    from chalicelib.panel import static_file

    found = static_file(name)
    if found is None:
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain"})
    return Response(body=found[0], status_code=200, headers={"Content-Type": found[1],
                                                             "Cache-Control": "public, max-age=3600"})


@panel.route("/panel/dashboard", methods=["GET"])
@web_page
@guarded
@page()
def dashboard(request, session):
    from chalicelib.domain.panel_figures import figures

    container = _container()
    now = container.clock.now()
    orders = container.panel_reads.orders_created(now - timedelta(days=30), now + timedelta(seconds=1))
    stuck_after = timedelta(minutes=container.settings.paid_stuck_minutes)
    shown = figures(orders, now, stuck_after)
    balances = {account: container.ledger.balance(account) for account in LEDGER_ACCOUNTS}
    for product in container.products.all():
        balances[f"revenue:{product.kind}:USDT"] = container.ledger.balance(f"revenue:{product.kind}:USDT")
    chart = {"days": shown.days, "orders": shown.daily_orders, "paid": shown.daily_paid,
             "revenue": shown.daily_revenue}
    wallets, holders = container.panel_reads.wallets_total()
    return present(request, session, "dashboard.html", "dashboard", title="Dashboard", figures=shown,
                   balances=balances, queues=container.queue_depths(), chart=chart, now=now, wallets=wallets,
                   holders=holders, stars=container.star_report())


@panel.route("/panel/orders", methods=["GET"])
@web_page
@guarded
@page()
def orders_page(request, session):
    from datetime import date, datetime, time, timezone

    from chalicelib.api.panel_forms import OrdersQuery

    query = parse_query(request.query_params, OrdersQuery)
    container = _container()
    now = container.clock.now()
    first = date.fromisoformat(query.day_from) if query.day_from else (now - timedelta(days=30)).date()
    last = date.fromisoformat(query.day_to) if query.day_to else now.date()
    since = datetime.combine(first, time(0), tzinfo=timezone.utc)
    until = datetime.combine(last, time(0), tzinfo=timezone.utc) + timedelta(days=1)
    listed = container.panel_reads.orders(
        since, until, status=query.status.value if query.status else None, product_id=query.product_id,
        owner_id=f"user:{query.buyer}" if query.buyer else None, limit=ORDERS_PAGE, cursor=query.cursor)
    return present(request, session, "orders.html", "orders", title="Orders", orders=listed.items, query=query,
                   statuses=[status.value for status in _statuses()], day_from=first.isoformat(),
                   day_to=last.isoformat(), next_page=_next_page(request, listed.cursor))


def _next_page(request, cursor: str | None) -> str | None:
    from urllib.parse import urlencode

    if cursor is None:
        return None
    params = {name: value for name, value in (request.query_params or {}).items() if name != "cursor" and value}
    return "/panel/orders?" + urlencode({**params, "cursor": cursor})


def _statuses():
    from chalicelib.domain.orders import OrderStatus

    return list(OrderStatus)


@panel.route("/panel/orders/{order_id}", methods=["GET"])
@web_page
@guarded
@page()
def order_page(request, session, order_id: str):
    from chalicelib.domain.ledger import balance_entry_id, payment_entry_id, refund_entry_id

    container = _container()
    order = container.order_desk.order(order_id)
    payment = container.payments.get(order.payment_tx) if order.payment_tx else None
    entry_ids = [refund_entry_id(order.order_id), balance_entry_id(order.order_id)]
    if order.payment_tx:
        entry_ids.insert(0, payment_entry_id(order.payment_tx))
    entries = [entry for entry in map(container.ledger.entry, entry_ids) if entry is not None]
    return present(request, session, "order.html", "orders", title=f"Order {order.order_id}", order=order,
                   payment=payment, entries=entries, notes=order.details.get("operator_actions", []),
                   milestones=container.panel_reads.history(order.order_id),
                   told=container.notices.told(order.order_id, container.payments.pointing_at(order.order_id, 20)),
                   steps=container.order_desk.steps_for(order),
                   can_act=session.role >= Role.OPERATOR)


@panel.route("/panel/payments", methods=["GET"])
@web_page
@guarded
@page()
def payments_page(request, session):
    queue = _container().payment_desk.queue(200)
    return present(request, session, "payments.html", "payments", title="Payments to review", items=queue.items,
                   can_act=session.role >= Role.OPERATOR)


@panel.route("/panel/buyers", methods=["GET"])
@web_page
@guarded
@page()
def buyers_page(request, session):
    from chalicelib.api.panel_forms import BuyerQuery

    query = parse_query(request.query_params, BuyerQuery)
    container = _container()
    found = None
    if query.owner_id:
        found = {"owner_id": query.owner_id, "balance": container.wallets.balance(query.owner_id),
                 "history": container.wallets.history(query.owner_id, 50).items,
                 "orders": container.orders.list_by_owner(query.owner_id, 50, None).items}
    return present(request, session, "buyers.html", "buyers", title="Buyers", found=found,
                   request_id=container.ids.new_id(), can_act=session.role >= Role.OPERATOR)


@panel.route("/panel/settings", methods=["GET"])
@web_page
@guarded
@page()
def settings_page(request, session):
    from chalicelib.domain.bot_texts import EDITABLE, preview

    container = _container()
    desk = container.catalog_desk
    texts, texts_version = container.bot_texts.current()
    language = (request.query_params or {}).get("language")
    language = language if language in texts else "en"
    (prices, prices_version), (plans, plans_version), (limits, limits_version) = (
        desk.prices(), desk.plans_text(), desk.limits())
    return present(request, session, "settings.html", "settings", title="Catalog & settings", prices=prices,
                   prices_version=prices_version, plans=plans, plans_version=plans_version, limits=limits,
                   limits_version=limits_version, plan_problems=container.code_pack.problems(),
                   offers=container.premium.offers(), addresses=container.address_desk.current(),
                   texts=texts, texts_version=texts_version, language=language, editable=EDITABLE,
                   preview={key: preview(text) for key, text in texts[language].items()},
                   can_act=session.role >= Role.OPERATOR, is_owner=session.role >= Role.OWNER)


@panel.route("/panel/distributors", methods=["GET"])
@web_page
@guarded
@page()
def distributors_page(request, session):
    from chalicelib.domain.products.code_pack import PLANS_SETTING

    container = _container()
    listed = container.panel_reads.distributors()
    now = container.clock.now()
    packs = [order for distributor in listed   # only distributors buy packs (CodePack.audience)
             for order in container.panel_reads.orders_of_owner(f"dist:{distributor.distributor_id}",
                                                                 now - timedelta(days=365), now)
             if order.kind == "CODE_PACK"]
    ranking: dict[str, list[int]] = {}
    for order in packs:
        if order.paid_micros:
            counts = ranking.setdefault(order.plan_id or "?", [0, 0])
            counts[0] += order.quantity or 0
            counts[1] += min(order.paid_micros, order.amount_micros)
    sales = {d.distributor_id: sum(min(o.paid_micros or 0, o.amount_micros) for o in packs
                                   if o.owner_id == f"dist:{d.distributor_id}") for d in listed}
    return present(request, session, "distributors.html", "distributors", title="Distributors",
                   distributors=listed, sales=sales, plan_setting=PLANS_SETTING,
                   ranking=sorted(ranking.items(), key=lambda item: -item[1][1]),
                   can_act=session.role >= Role.OPERATOR)


@panel.route("/panel/operators", methods=["GET"])
@web_page
@guarded
@page()
def operators_page(request, session):
    return present(request, session, "operators.html", "operators", title="Operators",
                   operators=_container().operators.list(), is_owner=session.role >= Role.OWNER)


@panel.route("/panel/reports", methods=["GET"])
@web_page
@guarded
@page()
def reports_page(request, session):
    from datetime import date

    from chalicelib.api.requests import AuditQuery
    from chalicelib.domain.errors import NotFound

    container = _container()
    query = parse_query(request.query_params, AuditQuery)
    day = query.day or container.clock.now().date().isoformat()
    try:
        report = container.reconciliation.stored(date.fromisoformat(day))
    except NotFound:
        report = None
    audit = container.distributors.audit_day(session.actor(), day, 200, None).items
    return present(request, session, "reports.html", "reports", title="Reports", day=day, report=report, audit=audit,
                   can_act=session.role >= Role.OPERATOR)
