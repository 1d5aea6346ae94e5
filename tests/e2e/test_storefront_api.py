"""The storefront's HTTP side: the page and its assets with their cache headers, every buyer call behind
Mini App init data, CORS only for the configured origins, and the operator's view of the Star inventory."""
from __future__ import annotations

import json
import re

import pytest

from tests.e2e.test_stars_payments import charge, stars_order, successful_payment
from tests.support import TEST_ENV

ORIGIN = "https://shop.example"
ADMIN = {"X-Api-Key": TEST_ENV["ADMIN_API_KEY"]}


@pytest.fixture
def stars_api(api, sandbox):
    api.sandbox = sandbox.extensions["sandbox"]
    return api


def test_the_page_is_never_cached_and_its_assets_are_cached_by_content(client):
    page = client.http.get("/store")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-cache"
    assert page.headers["Content-Type"].startswith("text/html")
    body = page.body.decode()
    # Against the sandbox (the test's Bot API), the page loads its Telegram.WebApp stand-in.
    assert "/_sandbox/telegram-web-app.js" in body
    script = re.search(r'src="(store/assets/app\.js\?v=[0-9a-f]{12})"', body).group(1)
    current = client.http.get("/" + script)
    assert current.status_code == 200 and current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert current.headers["Content-Type"].startswith("text/javascript")
    assert client.http.get("/store/assets/app.js?v=old").headers["Cache-Control"] == "no-cache"
    missing = client.http.get("/store/assets/secrets.txt")
    assert missing.status_code == 404 and json.loads(missing.body)["error"]["code"] == "NOT_FOUND"


def test_every_buyer_call_of_the_storefront_needs_fresh_init_data(api, clock):
    assert api.client.http.get("/store/catalog").status_code == 401
    old = api.buyer_headers(1001)
    clock.advance(days=2)                       # older than INIT_DATA_MAX_AGE_SECONDS (a day)
    stale = api.client.http.get("/store/catalog", headers=old)
    assert stale.status_code == 401 and json.loads(stale.body)["error"]["code"] == "INIT_DATA_EXPIRED"
    fresh = api.client.http.get("/store/catalog", headers=api.buyer_headers(1001))
    products = {item["product_id"]: item for item in json.loads(fresh.body)["products"]}
    assert products["premium_3m"]["star_price"] == "1300" and "star_price" not in products["wallet_top_up"]


def test_cors_answers_only_the_configured_origins(api, container):
    container.settings = container.settings.model_copy(update={"miniapp_allowed_origins": (ORIGIN,)})
    allowed = api.client.http.options("/orders", headers={"Origin": ORIGIN,
                                                          "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204 and allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Telegram-Init-Data" in allowed.headers["Access-Control-Allow-Headers"]
    with_id = api.client.http.options("/orders/01ABC/stars-invoice", headers={"Origin": ORIGIN})
    assert with_id.status_code == 204 and with_id.headers["Access-Control-Allow-Origin"] == ORIGIN
    refused = api.client.http.options("/orders", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert json.loads(refused.body)["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    answer = api.client.http.get("/wallet", headers={**api.buyer_headers(1001), "Origin": ORIGIN})
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = api.client.http.get("/wallet", headers={**api.buyer_headers(1001), "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_the_operator_sees_star_income_refunds_gift_spending_and_balance(stars_api, container):
    api = stars_api
    assert api.client.http.get("/admin/stars").status_code == 401
    api.sandbox.set_star_balance(0)
    order = stars_order(api)
    successful_payment(api, order, charge(api, order))
    assert api.drain("delivery", "deliver_orders") == 1       # the gift spends 1000 of the 1300 Stars

    report = api.client.http.get("/admin/stars", headers=ADMIN)
    assert report.status_code == 200, report.body
    assert json.loads(report.body) == {"currency": "XTR", "balance": 300, "received": 1300, "sent_back": 0,
                                       "spent_on_gifts": 1000, "gifts": 1, "refunded_by_telegram": 0,
                                       "refunds_unsent": 0, "history_complete": True,
                                       "low_threshold": 5000, "low": True}
    alerts = [call["params"]["text"] for call in api.sandbox.calls("sendMessage") if call["params"]["chat_id"] == 999]
    assert [text for text in alerts if "Stars" in text and "below 5000" in text] == \
        [f"⚠️ The bot holds 1300 Stars; after gift {order['order_id']} 300 are left, below 5000. Top it up."]


def test_the_books_of_a_day_with_stars_reconcile_in_xtr(stars_api, container, clock):
    api = stars_api
    order = stars_order(api)
    successful_payment(api, order, charge(api, order))
    clock.advance(seconds=10)            # the day indexes may lag their writes by a few seconds
    report = container.reconciliation.reconcile(clock.now().date())
    assert report.ok, [difference.as_dict() for difference in report.differences]
    assert report.totals["XTR"] == {"entries": 1, "moved_micros": 1_300_000_000, "received_micros": 1_300_000_000}


def test_a_refund_booked_but_not_sent_is_alerted_and_shown_to_the_operator(stars_api, container):
    from devstack.sandbox import FaultRule
    from tests.e2e.test_wallet_flow import deliver_message

    api = stars_api
    order = stars_order(api)
    successful_payment(api, order, charge(api, order))
    api.sandbox.add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                    description="Bad Request: user not found"))
    api.sandbox.add_fault(FaultRule(method="refundStarPayment", error_code=502))
    deliver_message(api, order)

    alerts = [call["params"]["text"] for call in api.sandbox.calls("sendMessage") if call["params"]["chat_id"] == 999]
    assert any(f"Refund of order {order['order_id']} was booked but not sent" in text for text in alerts)
    report = json.loads(api.client.http.get("/admin/stars", headers=ADMIN).body)
    assert (report["sent_back"], report["refunded_by_telegram"], report["refunds_unsent"]) == (1300, 0, 1300)
