"""Redeem codes end to end through the HTTP API, the payment webhook and the SQS workers: buy, pay, fulfil,
export, redeem, deliver, give back on failure, and the figures a distributor sees."""
from __future__ import annotations

import json
import re

from devstack.sandbox import FaultRule
from tests.codes_support import codes, error_of  # noqa: F401 - the fixture

CODE_SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def summary(codes, token) -> dict:
    response = codes.get(token, "/distributors/me/summary")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def test_buy_pay_fulfil_export_redeem_and_deliver(codes, calls):
    # Given a distributor linked to Telegram
    distributor, token = codes.create_distributor("Kiosk", telegram_user_id=7001)
    plans = json.loads(codes.get(token, "/distributors/me/plans").body)["plans"]
    assert {"plan_id": "codes_3m_x10", "codes_per_pack": 10, "max_uses": 1, "valid_days": 180}.items() \
        <= next(plan for plan in plans if plan["plan_id"] == "codes_3m_x10").items()

    # When it orders two packs of ten and pays the unique amount
    order = codes.order(token, "codes_3m_x10", 2)
    assert order["fulfillment_status"] == "pending" and order["total_count"] == 20
    assert order["amount"].startswith("240.") and order["status"] == "PENDING"
    paid = codes.api.pay(order)
    assert json.loads(paid.body)["results"][0]["outcome"] == "MATCHED"
    assert codes.order_view(token, order["order_id"])["fulfillment_status"] == "pending"  # the webhook answers at once

    # Then the worker writes exactly 20 codes and sends them as a CSV document
    codes.fulfil()
    view = codes.order_view(token, order["order_id"])
    assert (view["status"], view["fulfillment_status"], view["delivered_count"], view["total_count"]) == \
        ("DELIVERED", "completed", 20, 20)
    assert view["fulfillment_error"] is None
    documents = calls("sendDocument")
    assert len(documents) == 1 and documents[0]["params"]["chat_id"] in (7001, "7001")
    assert documents[0]["params"]["document"]["filename"] == f"codes-{order['order_id']}.csv"
    rows = codes.csv_rows(token, order["order_id"])
    assert len(rows) == 20 and len({row["code"] for row in rows}) == 20
    assert all(CODE_SHAPE.match(row["code"]) for row in rows)
    assert rows[0].keys() == {"code", "months", "max_uses", "used_count", "expires_at", "status"}
    assert {(row["months"], row["max_uses"], row["used_count"], row["status"]) for row in rows} == {("3", "1", "0", "active")}
    assert rows[0]["expires_at"] == "2027-05-25T00:00:00Z"   # paid 2026-11-25: valid through day 180
    assert documents[0]["params"]["document"]["content"].startswith("code,months,max_uses,used_count,expires_at,status")

    # When an end user redeems one (lower case, no hyphens: still the code)
    code = rows[0]["code"]
    redeemed = codes.redeem(5001, code.replace("-", "").lower())
    assert redeemed.status_code == 200, redeemed.body
    answer = json.loads(redeemed.body)
    assert answer["status"] == "ACCEPTED" and answer["months"] == 3 and answer["redemption_id"]

    # Then the delivery worker gifts Premium to that user once
    codes.deliver()
    gifts = calls("giftPremiumSubscription")
    assert [(gift["params"]["user_id"], gift["params"]["month_count"]) for gift in gifts] == [(5001, 3)]
    gift_order = json.loads(codes.http.get(f"/orders/{answer['redemption_id']}",
                                           headers=codes.api.buyer_headers(5001)).body)
    assert gift_order["kind"] == "REDEMPTION_GIFT" and gift_order["status"] == "DELIVERED"

    # And the distributor's figures and lists follow
    figures = summary(codes, token)
    assert {key: figures[key] for key in ("codes_total", "codes_active", "codes_depleted", "codes_inactive",
                                          "redeem_attempts", "redemptions_delivered", "redemptions_failed")} == \
        {"codes_total": 20, "codes_active": 19, "codes_depleted": 1, "codes_inactive": 0, "redeem_attempts": 1,
         "redemptions_delivered": 1, "redemptions_failed": 0}
    assert figures["revenue_estimate"] == "15.00"   # the shop's price of premium_3m
    listed = json.loads(codes.get(token, "/distributors/me/redemptions").body)["redemptions"]
    assert [(item["code"], item["status"]) for item in listed] == [(code, "DELIVERED")]
    rows = codes.csv_rows(token, order["order_id"])
    assert next(row for row in rows if row["code"] == code)["status"] == "depleted"


def test_a_gift_that_fails_for_good_gives_the_use_back(codes, sandbox, calls):
    distributor, token = codes.create_distributor(telegram_user_id=None)
    order = codes.buy(token)
    code = codes.codes_of(token, order["order_id"])[0]
    assert calls("sendDocument") == []   # not linked to Telegram: HTTP only

    assert codes.redeem(5002, code).status_code == 200
    assert summary(codes, token)["codes_depleted"] == 1
    sandbox.extensions["sandbox"].add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                                      description="Bad Request: USER_ID_INVALID"))
    codes.deliver()

    redemption = json.loads(codes.get(token, "/distributors/me/redemptions").body)["redemptions"][0]
    assert redemption["status"] == "FAILED" and "USER_ID_INVALID" in redemption["failure_reason"]
    row = next(row for row in codes.csv_rows(token, order["order_id"]) if row["code"] == code)
    assert (row["used_count"], row["status"]) == ("0", "active")
    figures = summary(codes, token)
    assert (figures["codes_active"], figures["codes_depleted"], figures["redemptions"],
            figures["redemptions_failed"], figures["revenue_estimate"]) == (10, 0, 1, 1, "0.00")

    # The use is back: another user can take it; the same user cannot redeem the same code twice.
    assert error_of(codes.redeem(5002, code))["code"] == "ALREADY_REDEEMED"
    assert codes.redeem(5003, code).status_code == 200


def test_every_redeem_error_answer(codes, clock):
    distributor, token = codes.create_distributor()
    order = codes.buy(token)
    first, second, third = codes.codes_of(token, order["order_id"])[:3]

    malformed = codes.redeem(6001, "ABCD-EFGH")
    assert malformed.status_code == 400 and error_of(malformed)["code"] == "INVALID_CODE"
    assert error_of(malformed)["field"] == "code"
    missing = codes.http.post("/redeem", headers=codes.api.buyer_headers(6001), body=json.dumps({"kode": "x"}))
    assert missing.status_code == 400 and error_of(missing)["field"] in ("code", "kode")
    anonymous = codes.http.post("/redeem", headers={"Content-Type": "application/json"}, body=json.dumps({"code": first}))
    assert anonymous.status_code == 401

    unknown = codes.redeem(6002, "0000-0000-0000-0000")
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "CODE_NOT_FOUND")

    assert codes.redeem(6003, first).status_code == 200
    used_up = codes.redeem(6004, first)
    assert (used_up.status_code, error_of(used_up)["code"]) == (409, "CODE_USED_UP")
    again = codes.redeem(6003, first)
    assert (again.status_code, error_of(again)["code"]) == (409, "ALREADY_REDEEMED")

    deactivated = codes.post(token, f"/distributors/me/codes/{second}/deactivate")
    assert deactivated.status_code == 200 and json.loads(deactivated.body)["status"] == "inactive"
    inactive = codes.redeem(6005, second)
    assert (inactive.status_code, error_of(inactive)["code"]) == (409, "CODE_INACTIVE")

    clock.advance(days=181)
    expired = codes.redeem(6006, third)
    assert (expired.status_code, error_of(expired)["code"]) == (410, "CODE_EXPIRED")
    figures = summary(codes, token)
    assert (figures["codes_active"], figures["codes_expired"], figures["codes_depleted"],
            figures["codes_inactive"]) == (0, 8, 1, 1)
    assert figures["redeem_attempts"] == 5   # every attempt on one of its codes, refused or not


def test_failed_attempts_are_limited_per_user_and_per_ip(codes, clock):
    distributor, token = codes.create_distributor()
    codes.buy(token)
    guesses = [f"{index:04d}-0000-0000-0000" for index in range(12)]
    for guess in guesses[:10]:
        assert codes.redeem(6100, guess).status_code == 404
    limited = codes.redeem(6100, guesses[10])
    assert limited.status_code == 429 and error_of(limited)["code"] == "TOO_MANY_ATTEMPTS"
    assert int(limited.headers["Retry-After"]) == 60
    clock.advance(seconds=60)
    assert codes.redeem(6100, guesses[10]).status_code == 404   # one token came back
    assert codes.redeem(6100, guesses[11]).status_code == 429

    # The same address guessing for many users (each with a full bucket of its own): the IP bucket (30, one
    # back every 10 s) had 30 - 10 + 6 - 1 = 25 tokens left, so the 26th user from there is stopped.
    answers = [codes.redeem(user, guesses[user % 12]).status_code for user in range(6200, 6226)]
    assert answers == [404] * 25 + [429]
    clock.advance(seconds=10)
    assert codes.redeem(6300, guesses[0]).status_code == 404


def test_a_redemption_gives_its_token_back_only_failures_spend_the_budget(codes):
    _, token = codes.create_distributor()
    order = codes.buy(token)
    good = codes.codes_of(token, order["order_id"])[:3]
    guesses = [f"{index:04d}-1111-1111-1111" for index in range(11)]
    for guess in guesses[:9]:
        assert codes.redeem(6500, guess).status_code == 404
    for code in good:                                        # three successes on one token left
        assert codes.redeem(6500, code).status_code == 200
    assert codes.redeem(6500, guesses[9]).status_code == 404  # ... which is still there
    assert codes.redeem(6500, guesses[10]).status_code == 429


def test_a_multi_use_code_serves_exactly_its_uses(codes):
    distributor, token = codes.create_distributor()
    order = codes.buy(token, "codes_3m_shared10", 1)
    (code,) = codes.codes_of(token, order["order_id"])
    answers = [codes.redeem(7100 + user, code).status_code for user in range(11)]
    assert answers == [200] * 10 + [409]
    figures = summary(codes, token)
    assert (figures["codes_total"], figures["codes_depleted"], figures["redemptions"]) == (1, 1, 10)


def test_codes_are_listed_by_status_with_a_cursor_and_deactivated(codes, clock):
    distributor, token = codes.create_distributor()
    order = codes.buy(token)
    all_codes = codes.codes_of(token, order["order_id"])
    assert codes.redeem(7201, all_codes[0]).status_code == 200
    assert codes.post(token, f"/distributors/me/codes/{all_codes[1]}/deactivate").status_code == 200
    again = codes.post(token, f"/distributors/me/codes/{all_codes[1]}/deactivate")
    assert again.status_code == 200  # idempotent

    def listed(query: str) -> list[str]:
        found, cursor = [], None
        while True:
            path = f"/distributors/me/codes?{query}&limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = json.loads(codes.get(token, path).body)
            found += [item["code"] for item in page["codes"]]
            cursor = page["cursor"]
            if not cursor:
                return found

    assert listed("status=depleted") == [all_codes[0]]
    assert listed("status=inactive") == [all_codes[1]]
    assert listed("status=active") == all_codes[2:]
    assert listed("status=expired") == []
    assert sorted(listed("limit=3")) == sorted(all_codes)
    bad = codes.get(token, "/distributors/me/codes?status=sold")
    assert bad.status_code == 400 and error_of(bad)["field"] == "status"
    bad_cursor = codes.get(token, "/distributors/me/codes?cursor=not-a-cursor")
    assert bad_cursor.status_code == 400 and error_of(bad_cursor)["field"] == "cursor"

    clock.advance(days=200)
    assert listed("status=expired") == all_codes[2:]
    assert listed("status=active") == []
    figures = summary(codes, token)
    assert (figures["codes_active"], figures["codes_expired"], figures["codes_inactive"]) == (0, 8, 1)


def test_a_distributor_never_reaches_another_distributors_data(codes):
    mine, my_token = codes.create_distributor("Mine")
    theirs, their_token = codes.create_distributor("Theirs")
    their_order = codes.buy(their_token)
    their_code = codes.codes_of(their_token, their_order["order_id"])[0]
    assert codes.redeem(7301, their_code).status_code == 200

    for path in (f"/distributors/me/orders/{their_order['order_id']}",
                 f"/distributors/me/orders/{their_order['order_id']}/codes.csv"):
        response = codes.get(my_token, path)
        assert (response.status_code, error_of(response)["code"]) == (404, "ORDER_NOT_FOUND"), path
    deactivate = codes.post(my_token, f"/distributors/me/codes/{their_code}/deactivate")
    assert (deactivate.status_code, error_of(deactivate)["code"]) == (404, "CODE_NOT_FOUND")
    assert json.loads(codes.get(my_token, "/distributors/me/orders").body)["orders"] == []
    assert json.loads(codes.get(my_token, "/distributors/me/codes").body)["codes"] == []
    assert json.loads(codes.get(my_token, "/distributors/me/redemptions").body)["redemptions"] == []
    assert summary(codes, my_token)["codes_total"] == 0 and summary(codes, their_token)["codes_total"] == 10


def test_bearer_tokens_rotate_and_a_disabled_distributor_is_refused(codes):
    distributor, token = codes.create_distributor()
    assert codes.get(token, "/distributors/me").status_code == 200
    for headers, expected in (({}, "TOKEN_MISSING"), ({"Authorization": "Basic abc"}, "TOKEN_INVALID"),
                              ({"Authorization": f"Bearer {token}x"}, "TOKEN_INVALID"),
                              ({"Authorization": "Bearer UNKNOWN.secret"}, "TOKEN_INVALID")):
        response = codes.http.get("/distributors/me/plans", headers=headers)
        assert (response.status_code, error_of(response)["code"]) == (401, expected)

    rotated = codes.http.post(f"/admin/distributors/{distributor['distributor_id']}/rotate-token",
                              headers=codes.admin_headers())
    assert rotated.status_code == 200
    new_token = json.loads(rotated.body)["token"]
    assert codes.get(token, "/distributors/me").status_code == 401
    assert codes.get(new_token, "/distributors/me").status_code == 200

    disabled = codes.http.post(f"/admin/distributors/{distributor['distributor_id']}/disable",
                               headers=codes.admin_headers())
    assert json.loads(disabled.body)["distributor"]["status"] == "DISABLED"
    refused = codes.get(new_token, "/distributors/me/summary")
    assert (refused.status_code, error_of(refused)["code"]) == (403, "DISTRIBUTOR_DISABLED")


def test_admin_routes_need_the_key_and_every_action_is_audited(codes, container):
    for headers, expected in (({}, "API_KEY_MISSING"), ({"X-Api-Key": "wrong"}, "API_KEY_INVALID")):
        response = codes.http.post("/admin/distributors", headers={**headers, "Content-Type": "application/json"},
                                   body=json.dumps({"name": "x"}))
        assert (response.status_code, error_of(response)["code"]) == (401, expected)

    bad = codes.http.post("/admin/distributors", headers=codes.admin_headers(),
                          body=json.dumps({"name": "x", "telegram_user_id": "7"}))
    assert bad.status_code == 400 and error_of(bad)["field"] == "telegram_user_id"
    distributor, token = codes.create_distributor("Audited")
    assert "token_hash" not in distributor and token.startswith(distributor["distributor_id"] + ".")
    missing = codes.http.post("/admin/distributors/NOPE/disable", headers=codes.admin_headers())
    assert (missing.status_code, error_of(missing)["code"]) == (404, "DISTRIBUTOR_NOT_FOUND")
    codes.http.post(f"/admin/distributors/{distributor['distributor_id']}/rotate-token", headers=codes.admin_headers())

    shown = codes.http.get(f"/admin/distributors/{distributor['distributor_id']}", headers=codes.admin_headers())
    shown = json.loads(shown.body)["distributor"]
    assert shown["distributor_id"] == distributor["distributor_id"] and "token_hash" not in shown
    entries = json.loads(codes.http.get("/admin/audit", headers=codes.admin_headers()).body)["entries"]
    assert [(entry["action"], entry["outcome"]) for entry in entries] == [
        ("distributor.create", "VALIDATION_FAILED"), ("distributor.create", "ok"),
        ("distributor.disable", "DISTRIBUTOR_NOT_FOUND"), ("distributor.rotate_token", "ok"),
        ("distributor.get", "ok")]
    assert entries[1]["target"] == distributor["distributor_id"]
    assert all(entry["actor"] and entry["request_id"] for entry in entries)
    assert token not in json.dumps(entries)


def test_bad_order_requests_are_refused_with_the_field_named(codes):
    distributor, token = codes.create_distributor()
    for body, status, code, field in (
            ({"plan_id": "nope", "quantity": 1}, 404, "PLAN_NOT_FOUND", "plan_id"),
            ({"plan_id": "codes_3m_x10", "quantity": 0}, 400, "VALIDATION_FAILED", "quantity"),
            ({"plan_id": "codes_3m_x10", "quantity": "2"}, 400, "VALIDATION_FAILED", "quantity"),
            ({"plan_id": "codes_3m_x10", "quantity": 10_001}, 400, "QUANTITY_OUT_OF_RANGE", "quantity"),
            ({"plan_id": "codes_3m_x10", "quantity": 1, "price": "1"}, 400, "VALIDATION_FAILED", "price")):
        response = codes.post(token, "/distributors/me/orders", body)
        assert (response.status_code, error_of(response)["code"], error_of(response).get("field")) == \
            (status, code, field), body
    order = codes.order(token)
    early = codes.get(token, f"/distributors/me/orders/{order['order_id']}/codes.csv")
    assert (early.status_code, error_of(early)["code"]) == (409, "CODES_NOT_READY")
    for days in ("0", "366", "x"):
        response = codes.get(token, f"/distributors/me/sales-trend?days={days}")
        assert response.status_code == 400 and error_of(response)["field"] == "days"


def test_sales_trend_has_one_point_per_day_with_zeros(codes, clock):
    distributor, token = codes.create_distributor()
    order = codes.buy(token)
    batch = codes.codes_of(token, order["order_id"])
    assert codes.redeem(7401, batch[0]).status_code == 200
    clock.advance(days=2)
    assert codes.redeem(7402, batch[1]).status_code == 200
    assert codes.redeem(7403, "ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code == 404  # unknown codes count for nobody
    points = json.loads(codes.get(token, "/distributors/me/sales-trend?days=30").body)["points"]
    assert len(points) == 30 and points[-1]["date"] == "2026-11-27" and points[0]["date"] == "2026-10-29"
    by_day = {point["date"]: (point["redemptions"], point["codes_issued"]) for point in points}
    assert by_day["2026-11-25"] == (1, 10) and by_day["2026-11-26"] == (0, 0) and by_day["2026-11-27"] == (1, 0)
    assert sum(point["redemptions"] for point in points) == 2
