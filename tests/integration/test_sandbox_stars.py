"""The sandbox's Stars: invoice methods validated like the rest of the Bot API, refunds once per charge, the
Star history, the menu button and the Mini App launch page with signed init data."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote, urlparse

import httpx
import pytest

from chalicelib.domain.signatures import validate_init_data
from devstack.sandbox import create_sandbox_app
from devstack.sandbox.stars import stars_of

TOKEN = "123456:TEST-token_value"
API = f"/bot{TOKEN}"
INVOICE = {"title": "Premium, 3 months", "description": "A gift", "payload": "ORDER1", "currency": "XTR",
           "prices": [{"label": "Premium", "amount": 1300}]}


@pytest.fixture
def app():
    return create_sandbox_app()


@pytest.fixture
def client(app):
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox") as http:
        yield http


def description(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return response.json()["description"].removeprefix("Bad Request: ")


def test_invoices_in_stars_are_sent_linked_and_checked_like_telegram(client):
    sent = client.post(f"{API}/sendInvoice", json={"chat_id": 42, **INVOICE})
    assert sent.status_code == 200 and sent.json()["result"]["invoice"]["total_amount"] == 1300
    link = client.post(f"{API}/createInvoiceLink", json=INVOICE).json()["result"]
    assert link.startswith("https://t.me/$")
    form = client.post(f"{API}/createInvoiceLink", data={**INVOICE, "prices": json.dumps(INVOICE["prices"])})
    assert form.status_code == 200        # JSON-in-form, as a multipart or urlencoded client sends it

    bad = {"currency": "USD", "prices": [{"label": "x", "amount": 0}], "title": "", "payload": "x" * 129,
           "provider_token": "tok"}
    answers = {name: description(client.post(f"{API}/createInvoiceLink", json={**INVOICE, name: value}))
               for name, value in bad.items()}
    assert answers == {"currency": "CURRENCY_INVALID: the sandbox sells in Telegram Stars (XTR) only",
                       "prices": "CURRENCY_TOTAL_AMOUNT_INVALID", "title": 'parameter "title" is required',
                       "payload": "INVOICE_PAYLOAD_INVALID",
                       "provider_token": "PROVIDER_TOKEN_INVALID: payments in Telegram Stars take no provider token"}
    two_prices = {**INVOICE, "prices": INVOICE["prices"] * 2}
    assert description(client.post(f"{API}/sendInvoice", json={"chat_id": 42, **two_prices})) == \
        "prices must hold exactly one LabeledPrice for payments in Telegram Stars"
    assert description(client.post(f"{API}/sendInvoice", json=INVOICE)) == "chat_id is empty"


def test_pre_checkout_answers_need_a_reason_to_refuse_and_count_once(client, app):
    assert description(client.post(f"{API}/answerPreCheckoutQuery",
                                   json={"pre_checkout_query_id": "q", "ok": False})) == \
        "error_message is required when ok is false"
    assert client.post(f"{API}/answerPreCheckoutQuery", json={"pre_checkout_query_id": "q", "ok": True}).json()["ok"]
    assert description(client.post(f"{API}/answerPreCheckoutQuery",
                                   json={"pre_checkout_query_id": "q", "ok": True})) == "QUERY_ID_INVALID"


def test_a_charge_is_refunded_once_and_the_history_shows_payments_gifts_and_refunds(client, app):
    state = app.extensions["sandbox"]
    charge = stars_of(state).charge(7, 1300, "ORDER1")
    state.set_star_balance(state.star_balance + 1300)
    balance = state.star_balance
    refund = {"user_id": 7, "telegram_payment_charge_id": charge}
    assert client.post(f"{API}/refundStarPayment", json=refund).json() == {"ok": True, "result": True}
    assert description(client.post(f"{API}/refundStarPayment", json=refund)) == "CHARGE_ALREADY_REFUNDED"
    assert description(client.post(f"{API}/refundStarPayment", json={**refund, "user_id": 8})) == "CHARGE_NOT_FOUND"
    assert state.star_balance == balance - 1300
    client.post(f"{API}/giftPremiumSubscription", json={"user_id": 9, "month_count": 3, "star_count": 1000})

    history = client.post(f"{API}/getStarTransactions", json={"limit": 10}).json()["result"]["transactions"]
    assert [(item["amount"], "source" in item, (item.get("receiver") or {}).get("transaction_type"))
            for item in history] == [(1000, False, "premium_purchase"), (1300, False, None), (1300, True, None)]


def test_the_menu_button_opens_the_storefront_with_signed_init_data_and_a_theme(client):
    bad = {"menu_button": {"type": "web_app", "text": "Store", "web_app": {"url": "ftp://x"}}}
    assert description(client.post(f"{API}/setChatMenuButton", json=bad)) == "BUTTON_URL_INVALID"
    button = {"menu_button": {"type": "web_app", "text": "Store", "web_app": {"url": "http://app/store"}}}
    assert client.post(f"{API}/setChatMenuButton", json=button).json()["ok"] is True

    page = client.get("/_sandbox/miniapp", params={"user_id": 1001, "first_name": "Ann", "language_code": "ru",
                                                  "theme": "dark"})
    assert page.status_code == 200
    src = page.text.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert src.startswith("http://app/store#")
    launch = parse_qs(urlparse(src).fragment)
    user = validate_init_data(unquote(launch["tgWebAppData"][0]), TOKEN, datetime.now(timezone.utc), 60)
    assert (user.user_id, user.language_code) == (1001, "ru")
    assert json.loads(launch["tgWebAppThemeParams"][0])["bg_color"] == "#17212b"
    script = client.get("/_sandbox/telegram-web-app.js")
    assert script.status_code == 200 and "openInvoice" in script.text
    preflight = client.options("/_sandbox/stars/pay")
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
