"""Property: no input makes a page of the operator panel or the distributor portal answer 5xx, and a refused
request writes nothing but its audit entry (and, for a sign-in, the failed attempt's bucket).

Like test_http_routes: the session cookie, the CSRF token and the form are valid except for one hostile part (or
all of them), so each check is reached with real credentials and real ids."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from hypothesis import event, given, strategies as st

from tests.fuzz.strategies import fuzz, text
from tests.fuzz.test_http_routes import _path_segment

PREFIX = "tgshop-test"
PASSWORD = "a long fuzzing password"
AUDIT, GUARDS = f"{PREFIX}-audit-log", f"{PREFIX}-guards"


@dataclass(frozen=True)
class Page:
    method: str
    path: str                                        # Chalice's template
    area: str                                        # panel | portal | none
    form: dict = field(default_factory=dict)         # a valid form (POST)
    params: dict = field(default_factory=dict)       # path parameter -> valid values (world keys in angle brackets)
    query: tuple[str, ...] = ()


def _order_verbs():
    return {"verb": ["retry", "refund", "cancel"], "order_id": ["<order_id>"]}


BROWSER = [
    Page("GET", "/panel", "none"), Page("GET", "/portal", "none"),
    Page("GET", "/panel/static/{name}", "none", params={"name": ["panel.css", "charts.js", "uPlot.iife.min.js"]}),
    Page("GET", "/panel/sign-in", "none"), Page("GET", "/portal/sign-in", "none"),
    Page("POST", "/panel/sign-in", "none", {"name": "fuzzer", "password": PASSWORD}),
    Page("POST", "/portal/sign-in", "none", {"token": "<token>"}),
    Page("POST", "/panel/sign-out", "panel"), Page("POST", "/portal/sign-out", "portal"),
    Page("GET", "/panel/dashboard", "panel"),
    Page("GET", "/panel/orders", "panel", query=("status", "product_id", "buyer", "day_from", "day_to")),
    Page("GET", "/panel/orders/{order_id}", "panel", params={"order_id": ["<order_id>"]}),
    Page("POST", "/panel/orders/{order_id}/{verb}", "panel", {"reason": "fuzz"}, _order_verbs()),
    Page("POST", "/panel/orders/{order_id}/{verb}", "panel", {"reason": "fuzz", "proof": "seen"},
         {"verb": ["delivered"], "order_id": ["<order_id>"]}),
    Page("GET", "/panel/payments", "panel"),
    Page("POST", "/panel/payments/{transaction_id}/{verb}", "panel", {"reason": "fuzz", "owner_id": "user:9"},
         {"verb": ["credit"], "transaction_id": ["<tx>"]}),
    Page("POST", "/panel/payments/{transaction_id}/{verb}", "panel", {"reason": "fuzz", "order_id": "<order_id>"},
         {"verb": ["attach"], "transaction_id": ["<tx>"]}),
    Page("POST", "/panel/payments/{transaction_id}/{verb}", "panel", {"reason": "fuzz", "return_tx": "ab" * 32},
         {"verb": ["returned"], "transaction_id": ["<tx>"]}),
    Page("POST", "/panel/payments/{transaction_id}/{verb}", "panel", {"reason": "fuzz"},
         {"verb": ["dismiss"], "transaction_id": ["<tx>"]}),
    Page("GET", "/panel/buyers", "panel", query=("owner_id",)),
    Page("POST", "/panel/buyers/{owner_id}/adjust", "panel", {"amount": "1.00", "reason": "fuzz", "request_id": "f1"},
         {"owner_id": ["user:1001"]}),
    Page("GET", "/panel/settings", "panel", query=("language",)),
    Page("POST", "/panel/settings/{what}", "panel", {"premium_3m": "14", "version": ""}, {"what": ["prices"]}),
    Page("POST", "/panel/settings/{what}", "panel", {"min": "1", "max": "50", "version": ""}, {"what": ["limits"]}),
    Page("POST", "/panel/settings/{what}", "panel", {"plans": "{}", "version": ""}, {"what": ["plans"]}),
    Page("POST", "/panel/settings/{what}", "panel", {"language": "en", "menu.title": "Hi", "version": ""},
         {"what": ["texts"]}),
    Page("POST", "/panel/settings/addresses/{verb}", "panel", {"address": "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p",
                                                               "version": ""}, {"verb": ["add", "retire"]}),
    Page("POST", "/panel/settings/addresses/{verb}", "panel", {"old": "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt",
                                                               "address": "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p",
                                                               "version": ""}, {"verb": ["replace"]}),
    Page("GET", "/panel/tron", "panel", query=("state",)),
    Page("POST", "/panel/tron/payouts/{payout_id}/cancel", "panel", {"reason": "fuzz"},
         {"payout_id": ["order:nothing"]}),
    Page("POST", "/panel/tron/stock", "panel", {"asset": "TRX", "amount": "5", "reason": "fuzz",
                                                "request_id": "fuzz-stock"}),
    Page("POST", "/panel/tron/settings/{what}", "panel", {"rate": "0.3", "version": ""},
         {"what": ["exchange"]}),
    Page("POST", "/panel/tron/settings/{what}", "panel", {"fee": "1", "version": ""}, {"what": ["withdrawals"]}),
    Page("POST", "/panel/tron/settings/{what}", "panel", {"daily_max_trx": "6000", "version": ""},
         {"what": ["limits"]}),
    Page("POST", "/panel/tron/settings/{what}", "panel", {"packages": "{}", "version": ""}, {"what": ["packages"]}),
    Page("GET", "/panel/distributors", "panel"),
    Page("POST", "/panel/distributors", "panel", {"name": "Fuzz shop"}),
    Page("POST", "/panel/distributors/{distributor_id}/{verb}", "panel", {},
         {"verb": ["rotate", "disable"], "distributor_id": ["<distributor_id>"]}),
    Page("GET", "/panel/operators", "panel"),
    Page("POST", "/panel/operators", "panel", {"name": "newbie", "role": "viewer", "password": PASSWORD}),
    Page("POST", "/panel/operators/{name}/{verb}", "panel", {},
         {"verb": ["disable", "enable", "revoke"], "name": ["other", "fuzzer"]}),
    Page("GET", "/panel/reports", "panel", query=("day",)),
    Page("POST", "/panel/reports/reconcile", "panel", {"day": "2026-11-24"}),
    Page("GET", "/panel/exports/{name}", "panel", params={"name": ["orders.csv", "payments.csv", "ledger.csv"]},
         query=("day_from", "day_to")),
    Page("GET", "/portal/dashboard", "portal"),
    Page("GET", "/portal/orders/{order_id}/codes.csv", "portal", params={"order_id": ["<code_order_id>"]}),
    Page("POST", "/portal/orders", "portal", {"plan_id": "codes_3m_x10", "quantity": "1", "payment_method": "trc20"}),
    Page("POST", "/portal/top-up", "portal", {"amount": "25"}),
    Page("POST", "/portal/codes/{code}/deactivate", "portal", {}, {"code": ["ABCD-EFGH-JKMN-PQRS"]}),
]
PARTS = ("cookie", "csrf", "form", "path", "query", "content type")


@pytest.fixture
def browser_world(api, container, clock, tron_node):
    import json

    from chalicelib.domain.distributors import AdminActor
    from chalicelib.domain.operators import Role

    order = json.loads(api.create_order(user_id=1001).body)
    container.operators.create(AdminActor("fuzz"), "fuzzer", Role.OWNER, PASSWORD)
    container.operators.create(AdminActor("fuzz"), "other", Role.VIEWER, PASSWORD)
    distributor, token = container.distributors.create(AdminActor("fuzz"), "Fuzz", None)
    code_order = container.distributor_desk.create_order(distributor, "codes_3m_x10", 1)
    operator = container.operators.sign_in("fuzzer", PASSWORD, None)
    portal = container.operators.open_for_distributor(distributor.distributor_id, None)
    return {"<order_id>": order["order_id"], "<code_order_id>": code_order.order_id, "<token>": token,
            "<distributor_id>": distributor.distributor_id, "<tx>": "c" * 64,
            "panel": (f"tgshop_panel={operator.token}", operator.session.csrf_token),
            "portal": (f"tgshop_portal={portal.token}", portal.session.csrf_token)}


def _filled(value: str, world: dict) -> str:
    return world.get(value, value)


def _request(page: Page, world: dict, draw, hostile: set[str]) -> tuple[str, dict, bytes]:
    path = page.path
    for name, values in page.params.items():
        value = draw(text.map(_path_segment)) if "path" in hostile else _filled(draw(st.sampled_from(values)), world)
        path = path.replace("{" + name + "}", value)
    if "query" in hostile and page.query:
        path += "?" + urlencode(draw(st.dictionaries(st.sampled_from(page.query), text, min_size=1, max_size=3)))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if "content type" in hostile:
        headers["Content-Type"] = draw(st.sampled_from(["application/json", "text/plain", "", "multipart/form-data"]))
    cookie, csrf = world.get(page.area, ("", ""))
    if "cookie" in hostile:
        cookie = draw(st.one_of(text, st.just(world["panel" if page.area == "portal" else "portal"][0]),
                                st.just(cookie + "x")))
    if cookie:
        headers["Cookie"] = cookie
    form = {name: _filled(value, world) for name, value in page.form.items()}
    if page.area != "none":
        form["csrf"] = draw(text) if "csrf" in hostile else csrf
    if "form" in hostile:
        form = draw(st.one_of(st.dictionaries(st.sampled_from([*form, "junk"]), text, max_size=5),
                              st.fixed_dictionaries({name: text for name in form})))
    body = urlencode(form).encode() if page.method == "POST" else b""
    if "form" in hostile and draw(st.booleans()):
        body = draw(st.binary(max_size=64))
    return path, headers, body


@given(data=st.data())
@fuzz(120)
def test_no_page_gets_a_5xx_or_writes_when_refused(browser_world, client, writes, data):
    page = data.draw(st.sampled_from(BROWSER), label="page")
    hostile = set(PARTS) if data.draw(st.integers(0, 5), label="all hostile") == 0 \
        else {data.draw(st.sampled_from(PARTS), label="hostile part")}
    path, headers, body = _request(page, browser_world, data.draw, hostile)
    writes.take()
    response = client.http.request(page.method, path, headers=headers, body=body)
    event(f"{page.method} {page.path} -> {response.status_code}")
    assert response.status_code < 500, (path, response.body[:300])
    if response.status_code >= 400:
        left = [write for write in writes.take() if write.table not in (AUDIT, GUARDS)]
        assert left == [], [str(write) for write in left]
