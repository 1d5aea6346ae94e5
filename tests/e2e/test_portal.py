"""Distributors in their portal: sign in with the token, read the dashboard, buy a pack, download codes."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.e2e.panel_support import FORM, Browser, headers


def _distributor(client):
    response = client.http.post("/admin/distributors", headers={"X-Api-Key": "test-admin-key",
                                                               "Content-Type": "application/json"},
                                body=json.dumps({"name": "Dana"}))
    return json.loads(response.body)


def _sign_in(client, token):
    browser = Browser(client, "portal")
    response = client.http.post("/portal/sign-in", headers=FORM, body=urlencode({"token": token}))
    browser._keep(response)
    return browser, response


def test_a_distributor_signs_in_with_the_token_and_sees_the_dashboard(container, client):
    issued = _distributor(client)
    browser, response = _sign_in(client, issued["token"])
    assert response.status_code == 303 and "Path=/portal" in headers(response)["set-cookie"]
    page = browser.get("/portal/dashboard")
    assert page.status_code == 200 and b"Dana" in page.body and b'id="sales-chart"' in page.body


def test_a_wrong_token_is_refused_and_a_panel_cookie_does_not_open_the_portal(container, client):
    issued = _distributor(client)
    _, response = _sign_in(client, issued["token"] + "x")
    assert response.status_code == 401
    browser, _ = _sign_in(client, issued["token"])
    assert client.http.get("/panel/dashboard", headers={"Cookie": browser.cookie.replace(
        "tgshop_portal", "tgshop_panel")}).status_code == 303


def test_buying_a_pack_by_transfer_shows_what_to_pay_and_from_an_empty_balance_is_refused(container, client):
    issued = _distributor(client)
    browser, _ = _sign_in(client, issued["token"])
    browser.get("/portal/dashboard")
    by_transfer = browser.post("/portal/orders", {"plan_id": "codes_3m_x10", "quantity": "1",
                                                  "payment_method": "trc20"})
    assert by_transfer.status_code == 201 and b"120.0" in by_transfer.body
    from_balance = browser.post("/portal/orders", {"plan_id": "codes_3m_x10", "quantity": "1",
                                                   "payment_method": "balance"})
    assert from_balance.status_code == 409
    bad = browser.post("/portal/orders", {"plan_id": "codes_3m_x10", "quantity": "zero", "payment_method": "trc20"})
    assert bad.status_code == 400 and b"quantity" in bad.body
    forged = browser.post("/portal/orders", {"plan_id": "codes_3m_x10", "quantity": "1", "payment_method": "trc20"},
                          csrf="nope")
    assert forged.status_code == 403


def test_a_disabled_distributor_is_signed_out(container, client):
    issued = _distributor(client)
    browser, _ = _sign_in(client, issued["token"])
    client.http.post(f"/admin/distributors/{issued['distributor']['distributor_id']}/disable",
                     headers={"X-Api-Key": "test-admin-key"})
    assert browser.get("/portal/dashboard").status_code == 303


def test_a_delivered_pack_downloads_as_csv_and_its_codes_can_be_deactivated(container, client, api):
    issued = _distributor(client)
    browser, _ = _sign_in(client, issued["token"])
    browser.get("/portal/dashboard")
    browser.post("/portal/orders", {"plan_id": "codes_3m_x10", "quantity": "1", "payment_method": "trc20"})
    [pack] = container.distributor_desk.orders(
        container.distributors.get_by_id(issued["distributor"]["distributor_id"]), 5, None).items
    assert json.loads(api.pay({"amount": f"{pack.amount_micros / 1_000_000:.3f}", "pay_to": pack.pay_to}).body)
    api.drain("fulfillment", "fulfill_code_orders")
    page = browser.get("/portal/dashboard")
    assert f"/portal/orders/{pack.order_id}/codes.csv?cursor=0".encode() in page.body
    assert b"?start=redeem-" in page.body
    csv = browser.get(f"/portal/orders/{pack.order_id}/codes.csv?cursor=0")
    assert csv.status_code == 200 and csv.body.count(b"\n") == 11
    assert browser.get(f"/portal/orders/{pack.order_id}/codes.csv?cursor=-1").status_code == 400
    code = csv.body.decode().splitlines()[1].split(",")[0]
    assert browser.post(f"/portal/codes/{code}/deactivate").status_code == 303
    assert browser.post(f"/portal/codes/{code}/deactivate", csrf="forged").status_code == 403
