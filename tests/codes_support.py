"""Helpers for the redeem-code tests: an admin, distributors and their code orders through the HTTP API."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from tests.support import TEST_ENV

ADMIN_KEY = TEST_ENV["ADMIN_API_KEY"]


class Codes:
    """Given / When / Then helpers on top of the shared `api` fixture."""

    def __init__(self, api: Any, container: Any) -> None:
        self.api = api
        self.http = api.client.http
        self.container = container

    # ------------------------------------------------------------------ admin
    def admin_headers(self, key: str = ADMIN_KEY) -> dict:
        return {"X-Api-Key": key, "Content-Type": "application/json"}

    def create_distributor(self, name: str = "Reseller", telegram_user_id: int | None = 7001) -> tuple[dict, str]:
        body = {"name": name} if telegram_user_id is None else {"name": name, "telegram_user_id": telegram_user_id}
        response = self.http.post("/admin/distributors", headers=self.admin_headers(), body=json.dumps(body))
        assert response.status_code == 201, response.body
        answer = json.loads(response.body)
        return answer["distributor"], answer["token"]

    # ------------------------------------------------------------------ distributors
    @staticmethod
    def headers(token: str) -> dict:
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def get(self, token: str, path: str) -> Any:
        return self.http.get(path, headers=self.headers(token))

    def post(self, token: str, path: str, body: dict | None = None) -> Any:
        return self.http.post(path, headers=self.headers(token), body=json.dumps(body or {}))

    def order(self, token: str, plan_id: str = "codes_3m_x10", quantity: int = 1) -> dict:
        response = self.post(token, "/distributors/me/orders", {"plan_id": plan_id, "quantity": quantity})
        assert response.status_code == 201, response.body
        return json.loads(response.body)

    def order_view(self, token: str, order_id: str) -> dict:
        response = self.get(token, f"/distributors/me/orders/{order_id}")
        assert response.status_code == 200, response.body
        return json.loads(response.body)

    def buy(self, token: str, plan_id: str = "codes_3m_x10", quantity: int = 1, fulfil: bool = True) -> dict:
        """Order, pay through the signed webhook and (by default) run the fulfillment worker dry."""
        order = self.order(token, plan_id, quantity)
        paid = self.api.pay(order)
        assert paid.status_code == 200 and json.loads(paid.body)["results"][0]["outcome"] == "MATCHED", paid.body
        if fulfil:
            self.fulfil()
        return order

    def fulfil(self) -> int:
        return self.api.drain("fulfillment", "fulfill_code_orders")

    def deliver(self) -> int:
        return self.api.drain("delivery", "deliver_orders")

    def csv_rows(self, token: str, order_id: str) -> list[dict]:
        rows: list[dict] = []
        cursor = None
        header: list[str] | None = None
        while True:
            path = f"/distributors/me/orders/{order_id}/codes.csv" + (f"?cursor={cursor}" if cursor else "")
            response = self.get(token, path)
            assert response.status_code == 200, response.body
            lines = list(csv.reader(io.StringIO(response.body.decode())))
            if header is None:
                header, lines = lines[0], lines[1:]
            rows += [dict(zip(header, line)) for line in lines]
            cursor = response.headers.get("X-Next-Cursor")
            if not cursor:
                return rows

    def codes_of(self, token: str, order_id: str) -> list[str]:
        return [row["code"] for row in self.csv_rows(token, order_id)]

    # ------------------------------------------------------------------ end users
    def redeem(self, user_id: int, code: str, **headers: str) -> Any:
        return self.http.post("/redeem", headers=self.api.buyer_headers(user_id, **headers),
                              body=json.dumps({"code": code}))

    def stored_codes(self, order_id: str) -> list[dict]:
        """Test-only look at the table: every code item of an order (a scan is fine in a test)."""
        from chalicelib.adapters.dynamodb import models

        client = models.connection().client
        items, start = [], None
        while True:
            request = {"TableName": models.CodeItem.Meta.table_name}
            if start:
                request["ExclusiveStartKey"] = start
            page = client.scan(**request)
            items += [item for item in page["Items"] if item["order_id"]["S"] == order_id]
            start = page.get("LastEvaluatedKey")
            if not start:
                return items


def error_of(response: Any) -> dict:
    return json.loads(response.body)["error"]


@pytest.fixture
def codes(api, container):
    return Codes(api, container)
