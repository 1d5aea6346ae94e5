"""Operators sign in to the panel: roles, CSRF, expiry and revocation, the sign-in limit, the audit log."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.operators import Role, hash_password, password_matches
from tests.e2e.panel_support import PASSWORD, Browser, headers, make_operator


@pytest.fixture
def browser(client):
    return Browser(client)


def test_a_password_is_stored_as_scrypt_and_checked_in_constant_time():
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$16384$8$1$") and PASSWORD not in stored
    assert password_matches(PASSWORD, stored)
    assert not password_matches(PASSWORD + "x", stored)
    assert not password_matches(PASSWORD, "garbage")


def test_sign_in_sets_a_strict_http_only_cookie_and_opens_the_dashboard(container, browser):
    make_operator(container)
    response = browser.sign_in()
    assert response.status_code == 303
    cookie = headers(response)["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/panel" in cookie
    assert "Secure" not in cookie      # served over plain HTTP here
    page = browser.get("/panel/dashboard")
    assert page.status_code == 200 and b"Dashboard" in page.body and b"alice" in page.body


def test_the_cookie_is_secure_behind_https(container, client):
    make_operator(container)
    response = client.http.post("/panel/sign-in", headers={"Content-Type": "application/x-www-form-urlencoded",
                                                           "X-Forwarded-Proto": "https"},
                                body=f"name=alice&password={PASSWORD.replace(' ', '+')}")
    assert "; Secure" in headers(response)["set-cookie"]


def test_without_a_session_a_page_redirects_to_sign_in_and_an_action_is_refused(client, browser):
    page = browser.get("/panel/orders")
    assert page.status_code == 303 and headers(page)["location"] == "/panel/sign-in"
    action = browser.post("/panel/settings/prices", {"premium_3m": "1"})
    assert action.status_code == 401


def test_a_wrong_password_is_401_and_repeated_failures_are_limited(container, browser):
    make_operator(container)
    statuses = [browser.sign_in(password="wrong password!").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert browser.sign_in().status_code == 429            # even the right password waits now
    container.clock.advance(minutes=10)
    assert browser.sign_in().status_code == 303


def test_a_change_without_the_csrf_token_is_refused_and_writes_nothing(container, browser):
    make_operator(container)
    browser.sign_in()
    browser.get("/panel/settings")
    before = container.settings_store.get("prices")
    response = browser.post("/panel/settings/prices", {"premium_3m": "9.99"}, csrf="forged")
    assert response.status_code == 403 and b"CSRF_INVALID" in response.body
    assert container.settings_store.get("prices") == before


def test_a_viewer_reads_but_cannot_change(container, browser):
    make_operator(container, "vera", Role.VIEWER)
    browser.sign_in("vera")
    assert browser.get("/panel/settings").status_code == 200
    response = browser.post("/panel/settings/prices", {"premium_3m": "9.99"})
    assert response.status_code == 403 and b"ROLE_REQUIRED" in response.body
    entries = container.distributors._audit.list_day(container.clock.now().date().isoformat(), 50, None).items
    refused = next(entry for entry in entries if entry.action == "panel.change_setting")
    assert refused.actor == "operator:vera" and refused.outcome == "ROLE_REQUIRED"


def test_only_an_owner_creates_operators_and_it_is_audited(container, client, browser):
    make_operator(container, "olga", Role.OWNER)
    browser.sign_in("olga")
    browser.get("/panel/operators")
    created = browser.post("/panel/operators", {"name": "bob", "role": "viewer", "password": "a long password"})
    assert created.status_code == 303
    assert container.operators.list()[0].name == "bob"
    weak = browser.post("/panel/operators", {"name": "carl", "role": "viewer", "password": "short"})
    assert weak.status_code == 400 and b"password" in weak.body
    entries = container.distributors._audit.list_day(container.clock.now().date().isoformat(), 50, None).items
    create = next(entry for entry in entries if entry.action == "operator.create" and entry.target == "operator:bob")
    assert create.actor == "operator:olga" and create.details["after"] == {"role": "viewer", "active": True}
    other = Browser(client)
    other.sign_in("bob", "a long password")
    other.get("/panel/operators")
    assert other.post("/panel/operators", {"name": "dan", "role": "owner",
                                           "password": "a long password"}).status_code == 403


def test_a_session_expires(container, browser):
    make_operator(container)
    browser.sign_in()
    container.clock.advance(minutes=container.settings.panel_session_minutes + 1)
    assert browser.get("/panel/dashboard").status_code == 303


def test_sign_out_and_disabling_revoke_sessions(container, client, browser):
    make_operator(container, "olga", Role.OWNER)
    make_operator(container)
    alice = Browser(client)
    alice.sign_in()
    assert alice.get("/panel/dashboard").status_code == 200
    browser.sign_in("olga")
    browser.get("/panel/operators")
    assert browser.post("/panel/operators/alice/disable").status_code == 303
    assert alice.get("/panel/dashboard").status_code == 303
    assert alice.sign_in().status_code == 401
    browser.get("/panel/dashboard")
    assert browser.post("/panel/sign-out").status_code == 303
    assert browser.get("/panel/dashboard").status_code == 303


def test_the_api_key_still_works_for_automation(container, client):
    response = client.http.get("/admin/audit", headers={"X-Api-Key": "test-admin-key"})
    assert response.status_code == 200 and "entries" in json.loads(response.body)
