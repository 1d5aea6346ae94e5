"""An owner in Chromium against the real local stack and its fake TRON node: the TRON page shows the hot wallet,
today's ceilings, the payouts that landed, the energy lent out and a payout the node refused (waiting for a
person); the exchange rate is changed there; a payment address is added on the settings page. Screenshots:
docs/panel-tron.png, docs/panel-settings.png."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import httpx
import pytest

from chalicelib.domain.tron import tron_address_from_account_bytes
from tests.browser.test_panel_browser import PASSWORD, _pay, _stage, _wait_for_status
from tests.browser.test_sandbox_chat_browser import browser  # noqa: F401 - the fixture
from tests.browser.test_tron_browser import RECEIVER, _answers
from tests.local_stack import PROJECT_DIR, START_TIMEOUT, LocalStack
from tests.support import tx_id

pytestmark = pytest.mark.browser

TRON_SCREENSHOT = PROJECT_DIR / "docs" / "panel-tron.png"
SETTINGS_SCREENSHOT = PROJECT_DIR / "docs" / "panel-settings.png"
NEW_ADDRESS = tron_address_from_account_bytes(b"tgshop-browser-addr1")
FRESH_ADDRESS = tron_address_from_account_bytes(b"tgshop-browser-fresh")   # never activated on the local chain


@pytest.fixture
def stack():
    started = LocalStack()
    started.wait_until(lambda: started.healthy() and _answers(started.tron + "/_node/state"), START_TIMEOUT,
                       "the API and the TRON node")
    yield started
    started.stop()


def _paid_order(stack, user_id: int, choice: dict) -> dict:
    from chalicelib.domain.signatures import build_init_data

    init = build_init_data(_stage("TELEGRAM_BOT_TOKEN"), {"id": user_id, "first_name": "Ann", "language_code": "en"},
                           int(datetime.now(timezone.utc).timestamp()))
    response = httpx.post(f"{stack.api}/orders", json=choice, headers={"X-Telegram-Init-Data": init})
    assert response.status_code == 201, response.text
    order = response.json()
    assert _pay(stack, order["amount"], order["pay_to"], tx_id())["outcome"] == "MATCHED"
    return order


def _refused_payout(stack) -> bool:
    answer = httpx.get(f"{stack.api}/admin/payouts", headers={"X-Api-Key": _stage("ADMIN_API_KEY")})
    return any(payout["last_error"] for payout in answer.json()["payouts"])


def test_an_owner_reads_the_tron_page_changes_the_rate_and_adds_a_payment_address(browser, stack):  # noqa: F811
    from chalicelib.tron_config import LOCAL_SHOP_ADDRESS

    created = subprocess.run([sys.executable, "-m", "devstack.operator", "create", "tess", "--role", "owner"],
                             cwd=PROJECT_DIR, env={**stack.env, "TGSHOP_OPERATOR_PASSWORD": PASSWORD},
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    try:
        page.goto(stack.api + "/panel/sign-in")
        page.fill("#name", "tess")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_role("heading", name="Dashboard").wait_for()

        page.click("nav >> text=TRON")
        page.get_by_role("heading", name="TRON", exact=True).wait_for()
        page.fill("#exchange-rate", "0.26")
        page.get_by_role("button", name="Save exchange").click()
        page.get_by_text("exchange saved").wait_for()
        assert page.locator("#exchange-rate").input_value() == "0.26"
        page.fill("#limits-hot_wallet_reserve_trx", "0")
        page.get_by_role("button", name="Save payout limits").click()
        page.get_by_text("limits saved").wait_for()

        exchange = _paid_order(stack, 6161, {"product_id": "trx_exchange", "address": RECEIVER, "trx_amount": "20"})
        assert exchange["amount"].startswith("5.36")                  # 20 TRX at the new rate plus the spread
        rental = _paid_order(stack, 6162, {"product_id": "energy_65k_1h", "address": RECEIVER})
        for order in (exchange, rental):
            _wait_for_status(stack, order["order_id"], "DELIVERED")
        # The hot wallet keeps just 20 TRX: enough by the limits, too little for a new address's activation fee.
        httpx.post(stack.tron + "/_node/accounts", json={"address": LOCAL_SHOP_ADDRESS, "balance_sun": 20_000_000}
                   ).raise_for_status()
        _paid_order(stack, 6163, {"product_id": "trx_exchange", "address": FRESH_ADDRESS, "trx_amount": "20"})
        stack.wait_until(lambda: _refused_payout(stack), 40, "a payout the node refused")

        page.goto(stack.api + "/panel/tron")
        assert "lent out" in page.locator("#hot-wallet").inner_text()
        assert rental["order_id"] in page.locator("#delegations").inner_text()
        assert "balance is not sufficient" in page.locator("#review").inner_text()
        page.get_by_role("button", name="Cancel payout").wait_for()
        TRON_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(TRON_SCREENSHOT), full_page=True)
        page.select_option("select[name=state]", "LANDED")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**state=LANDED**")
        assert exchange["order_id"] in page.locator("#payouts").inner_text()

        page.click("nav >> text=Catalog & settings")
        page.get_by_label("New payment address").fill(NEW_ADDRESS)
        page.get_by_role("button", name="Add address").click()
        page.get_by_text("address add: done").wait_for()
        assert NEW_ADDRESS in page.locator("#addresses").inner_text()
        page.screenshot(path=str(SETTINGS_SCREENSHOT), full_page=True)
    except Exception:
        print(stack.log_tail())
        raise
    finally:
        page.close()
