"""Operators and distributors in Chromium against the real local stack: resolve a transfer in suspense by
crediting the buyer's wallet, refund an order whose gift failed (its outcome unknown, so it waits for review),
change a price and see the bot quote it, and a distributor reading the sales chart. Screenshots go to docs/."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.browser.test_sandbox_chat_browser import PACE_MS, _answers, browser  # noqa: F401 - the fixture
from tests.local_stack import PROJECT_DIR, START_TIMEOUT, LocalStack
from tests.support import ADDRESSES, build_transfer, sign, tx_id

pytestmark = pytest.mark.browser

PANEL_SCREENSHOT = PROJECT_DIR / "docs" / "panel-dashboard.png"
PORTAL_SCREENSHOT = PROJECT_DIR / "docs" / "portal-dashboard.png"
ORDER_SCREENSHOT = PROJECT_DIR / "docs" / "panel-order.png"
PASSWORD = "a long local password"


@pytest.fixture
def stack():
    started = LocalStack()
    started.wait_until(lambda: started.healthy() and _answers(started.sandbox + "/"), START_TIMEOUT,
                       "the API and the sandbox")
    yield started
    started.stop()


def _stage(name: str) -> str:
    from devstack.localenv import stage_environment

    return stage_environment()[name].split(",")[0]


def _pay(stack, amount: str, to: str, tx: str) -> dict:
    import httpx
    from datetime import datetime, timezone

    raw = json.dumps(build_transfer(amount, to, tx, mined_at=datetime.now(timezone.utc)))
    stamp = int(datetime.now(timezone.utc).timestamp())
    response = httpx.post(f"{stack.api}/webhooks/payments/trc20", content=raw, headers={
        "Content-Type": "application/json", "X-Signature": sign(_stage("PAYMENT_WEBHOOK_SECRET"), stamp, raw.encode())})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]


def _order(stack, user_id: int) -> dict:
    import httpx
    from datetime import datetime, timezone

    from chalicelib.domain.signatures import build_init_data

    init = build_init_data(_stage("TELEGRAM_BOT_TOKEN"), {"id": user_id, "first_name": "Ann", "language_code": "en"},
                           int(datetime.now(timezone.utc).timestamp()))
    response = httpx.post(f"{stack.api}/orders", json={"product_id": "premium_3m"},
                          headers={"X-Telegram-Init-Data": init})
    assert response.status_code == 201, response.text
    return response.json()


def _buyer_init(user_id: int) -> str:
    from datetime import datetime, timezone

    from chalicelib.domain.signatures import build_init_data

    return build_init_data(_stage("TELEGRAM_BOT_TOKEN"), {"id": user_id, "first_name": "Ann", "language_code": "en"},
                           int(datetime.now(timezone.utc).timestamp()))


def _codes_when_issued(stack, token: str, count: int) -> list[str]:
    import httpx

    issued: list[str] = []

    def all_issued() -> bool:
        page = httpx.get(f"{stack.api}/distributors/me/codes", headers={"Authorization": f"Bearer {token}"})
        issued[:] = [code["code"] for code in page.json().get("codes", [])] if page.status_code == 200 else []
        return len(issued) == count
    stack.wait_until(all_issued, 60, f"{count} codes issued")
    return issued


def _redeem(stack, user_id: int, code: str):
    import httpx

    return httpx.post(f"{stack.api}/redeem", json={"code": code},
                      headers={"X-Telegram-Init-Data": _buyer_init(user_id)})


def _wait_for_status(stack, order_id: str, status: str) -> None:
    import httpx

    def reached():
        page = httpx.get(f"{stack.api}/admin/audit", headers={"X-Api-Key": _stage("ADMIN_API_KEY")})
        return page.status_code == 200 and _status(stack, order_id) == status
    stack.wait_until(reached, 30, f"order {order_id} {status}")


def _status(stack, order_id: str) -> str | None:
    import boto3

    table = boto3.resource("dynamodb", endpoint_url=stack.aws, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local").Table("tgshop-local-orders")
    return table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item", {}).get("status")


def test_an_operator_credits_a_stray_transfer_refunds_a_stuck_order_and_changes_a_price(browser, stack):  # noqa: F811
    import httpx

    created = subprocess.run([sys.executable, "-m", "devstack.operator", "create", "olga", "--role", "owner"],
                             cwd=PROJECT_DIR, env={**stack.env, "TGSHOP_OPERATOR_PASSWORD": PASSWORD},
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    stray = tx_id()
    assert _pay(stack, "7.5", ADDRESSES[0], stray)["outcome"] == "UNMATCHED"
    httpx.post(stack.sandbox + "/_sandbox/faults", json={"method": "giftPremiumSubscription", "error_code": 500,
                                                         "after_acting": True, "times": 3}).raise_for_status()
    order = _order(stack, 5151)
    _pay(stack, order["amount"], order["pay_to"], tx_id())
    _wait_for_status(stack, order["order_id"], "NEEDS_REVIEW")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    try:
        page.goto(stack.api + "/panel/sign-in")
        page.fill("#name", "olga")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_role("heading", name="Dashboard").wait_for()

        page.click("nav >> text=Payments")
        page.get_by_label("Wallet owner").fill("user:5151")
        page.get_by_label("Credit reason").fill("the buyer sent the wrong amount")
        page.get_by_role("button", name="Credit to wallet").click()
        page.get_by_text("credit done").wait_for()
        page.goto(stack.api + "/panel/buyers?owner_id=5151")
        assert page.locator("#wallet-balance").inner_text().startswith("7.50")

        page.goto(stack.api + f"/panel/orders/{order['order_id']}")
        page.get_by_label("Refund to wallet reason").fill("gift never arrived")
        page.get_by_role("button", name="Refund to wallet").click()
        page.get_by_text("refund: done").wait_for()
        assert "FAILED" in page.locator("h1").inner_text()
        page.get_by_text("message: refunded").wait_for()    # the refund's message, told once, in the history
        page.screenshot(path=str(ORDER_SCREENSHOT), full_page=True)
        page.goto(stack.api + "/panel/buyers?owner_id=5151")
        assert page.locator("#wallet-balance").inner_text().startswith("22.5")

        page.goto(stack.api + "/panel/settings")
        page.fill("#price-premium_3m", "12.50")
        page.get_by_role("button", name="Save prices").click()
        page.get_by_text("prices saved").wait_for()

        chat = browser.new_page(viewport={"width": 900, "height": 900})
        chat.goto(stack.sandbox + "/")
        chat.fill("#user-id", "5252")
        chat.fill("#first-name", "Price Check")
        chat.fill("#text", "/start")
        chat.press("#text", "Enter")
        chat.wait_for_timeout(PACE_MS)
        chat.get_by_role("button", name="⭐ Buy Premium").click()
        chat.get_by_role("button", name="3 months · 12.50 USDT").wait_for()
        chat.close()

        page.goto(stack.api + "/panel/dashboard")
        page.wait_for_selector(".chart canvas")
        PANEL_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(PANEL_SCREENSHOT), full_page=True)
    except Exception:
        print(stack.log_tail())
        raise
    finally:
        page.close()


def test_a_distributor_signs_in_and_reads_the_sales_chart(browser, stack):  # noqa: F811
    import httpx

    issued = httpx.post(f"{stack.api}/admin/distributors", json={"name": "Dana's shop"},
                        headers={"X-Api-Key": _stage("ADMIN_API_KEY")}).json()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    try:
        page.goto(stack.api + "/portal/sign-in")
        page.fill("#token", issued["token"])
        page.click("button[type=submit]")
        page.get_by_role("heading", name="Dana's shop").wait_for()
        page.get_by_role("heading", name="Sales, last 30 days").wait_for()
        page.wait_for_selector("#sales-chart canvas")
        legend = page.locator("#sales-chart .u-legend").inner_text()
        assert "redemptions" in legend and "codes issued" in legend
        plan, card = (page.locator(selector).bounding_box()
                      for selector in ("select[name=plan_id]", ".card:has(select[name=plan_id])"))
        assert plan["x"] + plan["width"] <= card["x"] + card["width"] - 12, "the pack list stays inside its card"
        page.select_option("select[name=payment_method]", "trc20")
        page.get_by_role("button", name="Buy").click()
        page.get_by_text("Send exactly this amount").wait_for()
        amount = page.locator("td.mono").first.inner_text().split()[0]
        _pay(stack, amount, page.locator("input[aria-label=Address]").input_value(), tx_id("portal-pack"))
        codes = _codes_when_issued(stack, issued["token"], 10)
        for user_id, code in zip((7101, 7102, 7103), codes):
            assert _redeem(stack, user_id, code).status_code == 200
        page.goto(stack.api + "/portal/dashboard")
        page.wait_for_selector("#sales-chart canvas")
        cards = page.locator(".card").all_inner_texts()
        assert any("REDEMPTIONS" in card.upper() and "\n3\n" in f"\n{card}\n" for card in cards), cards
        assert page.get_by_text("10/10").count() == 1, "the pack's fulfilment is complete"
        PORTAL_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(PORTAL_SCREENSHOT), full_page=True)
    except Exception:
        print(stack.log_tail())
        raise
    finally:
        page.close()
