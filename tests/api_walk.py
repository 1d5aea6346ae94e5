"""One walk over every documented route through the in-process app, with the states that make their answers
interesting (a paid and delivered order, a fulfilled code pack, a redemption, a reconciled day). Each answer
is handed to `seen(method, path template, response)`: the OpenAPI test checks it against the document, the
IAM test records what AWS it touched."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support import ADDRESSES, START, TEST_ENV, tx_id

Seen = Callable[[str, str, Any], None]


def walk(api: Any, codes: Any, seen: Seen) -> None:
    http = api.client.http
    buyer = api.buyer_headers(1001)
    admin = codes.admin_headers()

    def get(template: str, path: str | None = None, headers: dict | None = None) -> Any:
        response = http.get(path or template, headers=headers or {})
        seen("GET", template, response)
        return response

    def post(template: str, body: Any = None, path: str | None = None, headers: dict | None = None) -> Any:
        raw = None if body is None else json.dumps(body)
        response = http.post(path or template, headers={"Content-Type": "application/json", **(headers or {})},
                             body=raw)
        seen("POST", template, response)
        return response

    get("/health")
    get("/openapi.json")
    get("/catalog")
    order = json.loads(post("/orders", {"product_id": "premium_3m"}, headers={**buyer, "Idempotency-Key": "walk-1"})
                       .body)
    seen("POST", "/webhooks/payments/trc20", api.pay(order))
    api.drain("delivery", "deliver_orders")
    get("/orders", "/orders?limit=5", headers=buyer)
    get("/orders/{order_id}", f"/orders/{order['order_id']}", headers=buyer)
    second = json.loads(post("/orders", {"product_id": "premium_6m"}, headers=buyer).body)
    post("/orders/{order_id}/cancel", path=f"/orders/{second['order_id']}/cancel", headers=buyer)
    get("/orders/{order_id}", "/orders/missing", headers=buyer)
    get("/wallet", headers=buyer)
    get("/wallet/history", headers=buyer)

    created = post("/admin/distributors", {"name": "Walker", "telegram_user_id": 7001}, headers=admin)
    distributor, token = json.loads(created.body)["distributor"], json.loads(created.body)["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    get("/distributors/me", headers=bearer)
    get("/distributors/me/plans", headers=bearer)
    pack = json.loads(post("/distributors/me/orders", {"plan_id": "codes_3m_x10", "quantity": 1}, headers=bearer)
                      .body)
    api.pay(pack)
    codes.fulfil()
    get("/distributors/me/orders", headers=bearer)
    get("/distributors/me/orders/{order_id}", f"/distributors/me/orders/{pack['order_id']}", headers=bearer)
    get("/distributors/me/orders/{order_id}/codes.csv", f"/distributors/me/orders/{pack['order_id']}/codes.csv?rows=3",
        headers=bearer)
    listed = json.loads(get("/distributors/me/codes", headers=bearer).body)["codes"]
    post("/redeem", {"code": listed[0]["code"]}, headers=api.buyer_headers(2002))
    post("/redeem", {"code": "NOPE-NOPE-NOPE"}, headers=api.buyer_headers(2002))
    api.drain("delivery", "deliver_orders")
    post("/distributors/me/codes/{code}/deactivate", path=f"/distributors/me/codes/{listed[1]['code']}/deactivate",
         headers=bearer)
    get("/distributors/me/redemptions", headers=bearer)
    get("/distributors/me/summary", headers=bearer)
    get("/distributors/me/sales-trend", "/distributors/me/sales-trend?days=3", headers=bearer)
    get("/distributors/me/wallet", headers=bearer)
    get("/distributors/me/wallet/history", headers=bearer)
    post("/distributors/me/wallet/top-ups", {"amount": "10.00"}, headers=bearer)

    get("/admin/distributors/{distributor_id}", f"/admin/distributors/{distributor['distributor_id']}", headers=admin)
    post("/admin/wallet-adjustments", {"owner_id": "user:1001", "amount": "2.50", "reason": "walk",
                                       "request_id": "walk-1"}, headers=admin)
    post("/admin/reconciliation", {"day": START.date().isoformat()}, headers=admin)
    get("/admin/reconciliation/{day}", f"/admin/reconciliation/{START.date().isoformat()}", headers=admin)
    get("/admin/audit", headers=admin)
    post("/admin/distributors/{distributor_id}/rotate-token",
         path=f"/admin/distributors/{distributor['distributor_id']}/rotate-token", headers=admin)
    post("/admin/distributors/{distributor_id}/disable",
         path=f"/admin/distributors/{distributor['distributor_id']}/disable", headers=admin)
    get("/distributors/me", headers=bearer)  # 401: the token was rotated

    # The desks for what needs a person: a transfer nobody ordered credited to a wallet, an order cancelled.
    stray = tx_id("walk-stray")
    seen("POST", "/webhooks/payments/trc20", api.pay(amount="4", to=ADDRESSES[0], tx=stray))
    get("/admin/payments/review", "/admin/payments/review?limit=5", headers=admin)
    post("/admin/payments/{transaction_id}/resolution", {"how": "credit", "reason": "walk", "owner_id": "user:1001"},
         path=f"/admin/payments/{stray}/resolution", headers=admin)
    unpaid = json.loads(post("/orders", {"product_id": "premium_3m"}, headers=api.buyer_headers(1002)).body)
    post("/admin/orders/{order_id}/actions", {"action": "cancel", "reason": "walk"},
         path=f"/admin/orders/{unpaid['order_id']}/actions", headers=admin)
    post("/admin/orders/{order_id}/actions", {"action": "cancel", "reason": "walk"},
         path="/admin/orders/missing/actions", headers=admin)

    get("/tron/exchange/quote", "/tron/exchange/quote?trx_amount=10", headers=buyer)
    get("/admin/tron/hot-wallet", headers=admin)      # 503 when no TRON node answers
    get("/admin/payouts", headers=admin)
    get("/admin/payouts/{payout_id}", "/admin/payouts/order:none", headers=admin)
    post("/admin/payouts/{payout_id}/cancel", {"reason": "walk"}, path="/admin/payouts/order:none/cancel",
         headers=admin)
    post("/admin/tron/stock", {"asset": "TRX", "amount": "10", "reason": "walk", "request_id": "walk-stock"},
         headers=admin)

    update = {"update_id": 1, "message": {"message_id": 1, "date": int(START.timestamp()), "text": "/start",
                                          "chat": {"id": 1001, "type": "private"},
                                          "from": {"id": 1001, "is_bot": False, "first_name": "Walker"}}}
    post("/telegram/webhook", update,
         headers={"X-Telegram-Bot-Api-Secret-Token": TEST_ENV["TELEGRAM_WEBHOOK_SECRET"]})

    # Telegram Stars and the storefront: an order in Stars, its invoice link, its pre-checkout and payment.
    get("/store/catalog", headers=buyer)
    starred = json.loads(post("/orders", {"product_id": "premium_3m", "payment_method": "stars"},
                              headers=api.buyer_headers(3003)).body)
    post("/orders/{order_id}/stars-invoice", path=f"/orders/{starred['order_id']}/stars-invoice",
         headers=api.buyer_headers(3003))
    telegram = {"X-Telegram-Bot-Api-Secret-Token": TEST_ENV["TELEGRAM_WEBHOOK_SECRET"]}
    buyer_json = {"id": 3003, "is_bot": False, "first_name": "Star"}
    post("/telegram/webhook", {"update_id": 2, "pre_checkout_query": {
        "id": "walk-q", "from": buyer_json, "currency": "XTR", "total_amount": 1300,
        "invoice_payload": starred["order_id"]}}, headers=telegram)
    post("/telegram/webhook", {"update_id": 3, "message": {
        "message_id": 2, "date": int(START.timestamp()), "chat": {"id": 3003, "type": "private"}, "from": buyer_json,
        "successful_payment": {"currency": "XTR", "total_amount": 1300, "invoice_payload": starred["order_id"],
                               "telegram_payment_charge_id": "walk-charge", "provider_payment_charge_id": "x"}}},
         headers=telegram)
    get("/admin/stars", headers=admin)
