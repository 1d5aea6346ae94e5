"""Property: no input makes any HTTP route answer 5xx, every refusal is our error envelope (naming the field
for bad input), and a refused request writes nothing.

Each test fuzzes one area's routes in one emulator: credentials are mostly valid (so the body, the query and
the path parameters are what gets refused) and sometimes not. Two refusals write by design and are allowed:
an authenticated admin's refused action is written to the audit log, and a redeem attempt for a well-formed
code that fails is counted against the caller's limit and the code's distributor."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from hypothesis import event, given, strategies as st

from chalicelib.domain.signatures import build_init_data, sign_payload
from tests.codes_support import ADMIN_KEY
from tests.fuzz.strategies import bodies, cursors, fuzz, json_values, signature_headers, text
from tests.support import ADDRESSES, BOT_TOKEN, PAYMENT_SECRET, build_transfer, init_data_for
from tests.telegram_updates import WEBHOOK_SECRET, message_update, user_json

PREFIX = "tgshop-test"
AUDIT_TABLE = f"{PREFIX}-audit-log"


@dataclass(frozen=True)
class Route:
    method: str
    path: str                                   # Chalice's template, "{name}" for a path parameter
    auth: str                                   # none | buyer | distributor | admin | signature | telegram
    fields: tuple[str, ...] = ()                # the body's own field names
    query: tuple[str, ...] = ()                 # the query's parameter names
    template: dict | None = None                # a valid body, mutated field by field


BUYER = [
    Route("GET", "/health", "none"),
    Route("GET", "/openapi.json", "none", query=("format",)),
    Route("GET", "/catalog", "none"),
    Route("POST", "/orders", "buyer", ("product_id", "payment_method", "recipient_user_id"),
          template={"product_id": "premium_3m", "payment_method": "trc20", "recipient_user_id": 2002}),
    Route("POST", "/orders", "buyer", ("product_id", "amount", "then_buy", "payment_method"),
          template={"product_id": "wallet_top_up", "amount": "25",
                    "then_buy": {"product_id": "premium_3m", "choice": {}}}),
    Route("GET", "/orders", "buyer", query=("limit", "cursor")),
    Route("GET", "/orders/{order_id}", "buyer"),
    Route("POST", "/orders/{order_id}/cancel", "buyer"),
    Route("POST", "/redeem", "buyer", ("code",), template={"code": "ABCD-EFGH-JKMN-PQRS"}),
    Route("GET", "/wallet", "buyer"),
    Route("GET", "/wallet/history", "buyer", query=("limit", "cursor")),
    Route("GET", "/store", "none"),
    Route("GET", "/store/assets/{name}", "none", query=("v",)),
    Route("GET", "/store/catalog", "buyer"),
    Route("POST", "/orders/{order_id}/stars-invoice", "buyer"),
    *(Route("OPTIONS", path, "none") for path in ("/catalog", "/orders", "/orders/{order_id}",
                                                  "/orders/{order_id}/cancel", "/orders/{order_id}/stars-invoice",
                                                  "/wallet", "/wallet/history", "/store/catalog")),
    Route("GET", "/tron/exchange/quote", "buyer", query=("trx_amount", "usdt_amount")),
]
PAYMENTS = [Route("POST", "/webhooks/payments/trc20", "signature",
                  ("transaction_id", "token_info", "block_timestamp", "from", "to", "type", "value", "confirmed",
                   "data"), template=build_transfer("15.123", ADDRESSES[0], "fuzz-tx"))]
TELEGRAM = [Route("POST", "/telegram/webhook", "telegram", ("update_id", "message", "callback_query",
                                                           "pre_checkout_query"),
                  template=message_update(user_json(1001), "/start", update_id=1))]
ADMIN = [
    Route("POST", "/admin/distributors", "admin", ("name", "telegram_user_id"),
          template={"name": "Kiosk", "telegram_user_id": 7001}),
    Route("GET", "/admin/distributors/{distributor_id}", "admin"),
    Route("POST", "/admin/distributors/{distributor_id}/rotate-token", "admin"),
    Route("POST", "/admin/distributors/{distributor_id}/disable", "admin"),
    Route("GET", "/admin/audit", "admin", query=("day", "limit", "cursor")),
    Route("POST", "/admin/reconciliation", "admin", ("day",), template={"day": "2026-11-24"}),
    Route("GET", "/admin/reconciliation/{day}", "admin"),
    Route("GET", "/admin/stars", "admin"),
    Route("POST", "/admin/wallet-adjustments", "admin", ("owner_id", "amount", "reason", "request_id"),
          template={"owner_id": "user:1001", "amount": "2.50", "reason": "goodwill", "request_id": "fuzz-1"}),
    Route("POST", "/admin/orders/{order_id}/actions", "admin", ("action", "reason", "proof"),
          template={"action": "cancel", "reason": "fuzz"}),
    Route("GET", "/admin/payments/review", "admin", query=("limit", "cursor")),
    Route("POST", "/admin/payments/{transaction_id}/resolution", "admin",
          ("how", "reason", "owner_id", "order_id", "return_tx"),
          template={"how": "credit", "reason": "fuzz", "owner_id": "user:1001"}),
    Route("GET", "/admin/tron/hot-wallet", "admin"),
    Route("GET", "/admin/payouts", "admin", query=("state", "limit", "cursor")),
    Route("GET", "/admin/payouts/{payout_id}", "admin"),
    Route("POST", "/admin/payouts/{payout_id}/cancel", "admin", ("reason",), template={"reason": "fuzzing"}),
    Route("POST", "/admin/tron/stock", "admin", ("asset", "amount", "reason", "request_id"),
          template={"asset": "TRX", "amount": "100", "reason": "funded", "request_id": "fuzz-stock-1"}),
]
DISTRIBUTOR = [
    Route("GET", "/distributors/me", "distributor"),
    Route("GET", "/distributors/me/plans", "distributor"),
    Route("POST", "/distributors/me/orders", "distributor", ("plan_id", "quantity", "payment_method"),
          template={"plan_id": "codes_3m_x10", "quantity": 1, "payment_method": "trc20"}),
    Route("GET", "/distributors/me/orders", "distributor", query=("limit", "cursor")),
    Route("GET", "/distributors/me/orders/{order_id}", "distributor"),
    Route("GET", "/distributors/me/orders/{order_id}/codes.csv", "distributor", query=("cursor", "rows")),
    Route("GET", "/distributors/me/codes", "distributor", query=("status", "limit", "cursor")),
    Route("POST", "/distributors/me/codes/{code}/deactivate", "distributor"),
    Route("GET", "/distributors/me/summary", "distributor"),
    Route("GET", "/distributors/me/redemptions", "distributor", query=("limit", "cursor")),
    Route("GET", "/distributors/me/sales-trend", "distributor", query=("days",)),
    Route("GET", "/distributors/me/wallet", "distributor"),
    Route("GET", "/distributors/me/wallet/history", "distributor", query=("limit", "cursor")),
    Route("POST", "/distributors/me/wallet/top-ups", "distributor", ("amount",), template={"amount": "25"}),
]
AREAS = {"buyer": BUYER, "payments": PAYMENTS, "telegram": TELEGRAM, "admin": ADMIN, "distributor": DISTRIBUTOR}


def test_every_route_is_fuzzed():
    from app import app
    from tests.fuzz.test_browser_routes import BROWSER

    served = {(method, path) for path, methods in app.routes.items() for method in methods}
    fuzzed = {(route.method, route.path) for routes in AREAS.values() for route in routes} | {
        (page.method, page.path) for page in BROWSER}
    assert served == fuzzed


# ---------------------------------------------------------------------------------------------- the world
@pytest.fixture
def world(api, container, clock, tron_node):
    """A buyer with an order, a distributor with a token and a code order: real ids to aim at."""
    from chalicelib.domain.distributors import AdminActor

    order = json.loads(api.create_order(user_id=1001).body)
    distributor, token = container.distributors.create(AdminActor("fuzz"), "Fuzz", None)
    code_order = container.distributor_desk.create_order(distributor, "codes_3m_x10", 1)
    return {"order_id": order["order_id"], "distributor_id": distributor.distributor_id, "token": token,
            "code_order_id": code_order.order_id, "now": int(clock.now().timestamp())}


def _init_data(world: dict) -> st.SearchStrategy[str | None]:
    now = world["now"]
    user = {"id": 1001, "first_name": "Fuzz"}
    signed_oddities = st.builds(
        lambda extra: build_init_data(BOT_TOKEN, user, now, extra),
        st.dictionaries(st.sampled_from(["auth_date", "user", "query_id"]),
                        st.one_of(text, json_values.map(json.dumps)), min_size=1, max_size=2))
    unsigned = st.builds(lambda pairs: urlencode(pairs), st.lists(st.tuples(
        st.sampled_from(["hash", "auth_date", "user", "x"]), text), max_size=4))
    return st.one_of(st.just(None), text, signed_oddities, unsigned,
                     st.sampled_from(["hash=é", "auth_date=1&hash=%C3%A9", "hash=" + "é" * 64, "&&", "="]))


def _credentials(route: Route, world: dict, draw, body: bytes, hostile: bool) -> dict[str, str]:
    headers: dict[str, str | None] = {}
    if route.auth == "buyer":
        headers["X-Telegram-Init-Data"] = draw(_init_data(world)) if hostile else init_data_for(1001, _now(world))
    elif route.auth == "distributor":
        token = world["token"]
        headers["Authorization"] = f"Bearer {token}" if not hostile else draw(st.one_of(
            text, text.map(lambda value: "Bearer " + value), st.just(f"Bearer {world['distributor_id']}.é"),
            st.just("Bearer " + "a" * 300), st.just(f"bearer  {token} ")))
    elif route.auth == "admin":
        headers["X-Api-Key"] = draw(text) if hostile else ADMIN_KEY
    elif route.auth == "signature":
        right = sign_payload(PAYMENT_SECRET, world["now"], body)
        headers["X-Signature"] = draw(signature_headers(right, world["now"])) if hostile else right
    elif route.auth == "telegram":
        headers["X-Telegram-Bot-Api-Secret-Token"] = draw(text) if hostile else WEBHOOK_SECRET
    return {name: value for name, value in headers.items() if value is not None}


def _now(world: dict):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(world["now"], tz=timezone.utc)


def _path(route: Route, world: dict, draw, hostile: bool) -> str:
    path = route.path
    for name in ("order_id", "distributor_id", "code", "day", "transaction_id", "name", "payout_id"):
        if "{" + name + "}" not in path:
            continue
        known = {"order_id": [world["order_id"], world["code_order_id"]], "distributor_id": [world["distributor_id"]],
                 "code": ["ABCD-EFGH-JKMN-PQRS", "abcd efgh jkmn pqrs"], "day": ["2026-11-24", "2020-01-01"],
                 "transaction_id": ["c" * 64], "name": ["app.js", "app.css"],
                 "payout_id": [f"order:{world['order_id']}", "swap:none"]}[name]
        value = draw(text.map(_path_segment) if hostile else st.sampled_from(known))
        path = path.replace("{" + name + "}", value)
    return path


def _path_segment(value: str) -> str:
    """One path segment as API Gateway hands it over (the local gateway would split on these characters, and
    urllib drops tabs)."""
    value = re.sub(r"[/?#;\t]", "", value)
    return "x" + value if value in ("", ".", "..") else value


def _query(route: Route, draw) -> str:
    if not route.query:
        return ""
    values = st.one_of(text, cursors, st.integers(min_value=-5, max_value=10**7).map(str))
    chosen = draw(st.dictionaries(st.sampled_from(route.query + ("junk",)), values, min_size=1, max_size=3))
    return "?" + urlencode(chosen)


CONTENT_TYPES = st.one_of(st.none(), st.sampled_from(
    ["text/plain", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data",
     "*/*", "application/octet-stream", "image/png", "", "application/jsón", "APPLICATION/JSON"]), text)
HEADERS = st.dictionaries(st.sampled_from(["Idempotency-Key", "X-Request-Id", "Accept", "Content-Length"]), text,
                          min_size=1, max_size=3)
PARTS = ("auth", "content type", "body", "path", "query", "headers")


# ---------------------------------------------------------------------------------------------- the property
def check(response, route: Route, recorded: list) -> None:
    status = response.status_code
    assert status < 500, (status, response.body[:300])
    if status < 400:
        return
    document = json.loads(response.body)
    error = document["error"]
    assert isinstance(error["code"], str) and error["code"] and isinstance(error["message"], str), document
    assert error["request_id"], document
    if status in (400, 415):
        assert error.get("field"), document
    allowed = [write for write in recorded if _allowed(route, status, error["code"], write)]
    assert recorded == allowed, [str(write) for write in recorded]


def _allowed(route: Route, status: int, code: str, write) -> bool:
    if route.auth == "admin" and code not in ("API_KEY_MISSING", "API_KEY_INVALID"):
        return write.table == AUDIT_TABLE and write.operation in ("PutItem", "Put")
    if route.path == "/redeem" and status in (404, 409, 410):
        return write.table in (f"{PREFIX}-guards", f"{PREFIX}-distributor-stats")
    return False


def run_area(area: str, world: dict, client, writes, data) -> None:
    """One request with one hostile part (or all of them) and everything else valid, so that each part's
    checks are reached with real credentials and real ids."""
    route = data.draw(st.sampled_from(AREAS[area]), label="route")
    hostile = set(PARTS) if data.draw(st.integers(0, 5), label="all hostile") == 0 \
        else {data.draw(st.sampled_from(PARTS), label="hostile part")}
    body = b""
    if route.method == "POST":
        valid_body = json.dumps(route.template).encode() if route.template else b""
        body = data.draw(bodies(route.fields, route.template), label="body") if "body" in hostile else valid_body
    headers = _credentials(route, world, data.draw, body, "auth" in hostile)
    content_type = data.draw(CONTENT_TYPES, label="content type") if "content type" in hostile \
        else "application/json"
    if content_type is not None:
        headers["Content-Type"] = content_type
    if "headers" in hostile:
        headers.update(data.draw(HEADERS, label="headers"))
    path = _path(route, world, data.draw, "path" in hostile) + (_query(route, data.draw) if "query" in hostile else "")
    writes.take()
    response = client.http.request(route.method, path, headers=headers, body=body)
    event(f"{route.method} {route.path} -> {response.status_code}")
    check(response, route, writes.take())


@pytest.mark.parametrize("area", sorted(AREAS))
@given(data=st.data())
@fuzz(150)
def test_no_input_gets_a_5xx_or_writes_when_refused(area, world, client, writes, data):
    run_area(area, world, client, writes, data)
