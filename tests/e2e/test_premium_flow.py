"""The Premium purchase through the HTTP API, the webhook and the workers."""
from __future__ import annotations

import json


def test_happy_path_pays_and_gifts_once(api, calls):
    created = api.create_order(recipient_user_id=2002)
    assert created.status_code == 201, created.body
    order = json.loads(created.body)
    assert order["status"] == "PENDING" and order["amount"].startswith("15.")

    paid = api.pay(order)
    assert paid.status_code == 200, paid.body
    assert json.loads(paid.body)["results"][0]["outcome"] == "MATCHED"

    api.drain("delivery", "deliver_orders")
    gifts = calls("giftPremiumSubscription")
    assert len(gifts) == 1
    assert gifts[0]["params"]["user_id"] == 2002
    final = json.loads(api.client.http.get(f"/orders/{order['order_id']}", headers=api.buyer_headers()).body)
    assert final["status"] == "DELIVERED"
