"""The Mini App storefront in a real browser: Chromium (Debian's, driven by Playwright) opens it the way
Telegram does, from the sandbox (signed init data and theme in the URL's fragment, its Telegram.WebApp
stand-in), against the real local stack. Premium for a friend paid with Stars and paid by transfer, each
watched until delivered; a gift that fails for good after a Stars payment is refunded once. Screenshots go
to docs/miniapp-*.png."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

import httpx
import pytest

from tests.browser.test_sandbox_chat_browser import CHROMIUM_ARGS, _apt_install, ensure_chromium
from tests.local_stack import PROJECT_DIR, START_TIMEOUT, LocalStack
from tests.support import build_transfer, sign

pytestmark = pytest.mark.browser

DOCS = PROJECT_DIR / "docs"
PAYMENT_SECRET = "local-payment-secret"       # the local stage's (.chalice/config.json)
FRIEND = "2002"
PHONE = {"width": 460, "height": 860}
WAIT_MS = 30_000
# The storefront speaks Chinese too: without a CJK font its screenshots show empty boxes.
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


@pytest.fixture(scope="module")
def browser():
    executable = ensure_chromium()
    if not os.path.exists(CJK_FONT):
        _apt_install(["fonts-noto-cjk"])    # the tests run without it; only the Chinese screenshot suffers
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def stack():
    started = LocalStack()
    started.wait_until(lambda: started.healthy() and _menu_button(started.sandbox), START_TIMEOUT,
                       "the API, the sandbox and the bot's menu button")
    yield started
    started.stop()


def _menu_button(sandbox: str) -> bool:
    try:
        return bool(httpx.get(f"{sandbox}/_sandbox/stars", timeout=2).json()["menu_buttons"])
    except (httpx.TransportError, ValueError):
        return False


def open_store(browser, stack, *, user_id: int = 1001, language: str = "en", theme: str = "light"):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{stack.sandbox}/_sandbox/miniapp?user_id={user_id}&first_name=Ann&language_code={language}"
              f"&theme={theme}")
    store = page.frame_locator("#webapp")
    store.locator("#pay-stars").wait_for(timeout=WAIT_MS)
    return page, store


def for_a_friend(store) -> None:
    store.locator("#for-friend").click()
    store.locator("#friend").fill(FRIEND)


def wait_for_status(store, status: str) -> None:
    store.locator(f'#order-steps[data-status="{status}"], #order-status:has-text("{status.title()}")').first \
        .wait_for(timeout=WAIT_MS)


def sandbox_calls(stack, method: str) -> list[dict]:
    return httpx.get(f"{stack.sandbox}/_sandbox/calls", params={"method": method}, timeout=5).json()


def test_premium_for_a_friend_paid_with_stars_is_delivered(browser, stack):
    page, store = open_store(browser, stack)
    page.screenshot(path=str(DOCS / "miniapp-shop.png"))
    balance = httpx.get(f"{stack.sandbox}/_sandbox/star-balance").json()["amount"]

    for_a_friend(store)
    store.locator("#pay-stars").click()
    wait_for_status(store, "DELIVERED")
    page.screenshot(path=str(DOCS / "miniapp-stars-delivered.png"))

    [gift] = [call for call in sandbox_calls(stack, "giftPremiumSubscription") if call["status"] == 200]
    assert gift["params"]["user_id"] == int(FRIEND)
    [answer] = sandbox_calls(stack, "answerPreCheckoutQuery")
    assert answer["params"]["ok"] is True
    # 1300 Stars came in; the 3-month gift spent 1000 of them.
    assert httpx.get(f"{stack.sandbox}/_sandbox/star-balance").json()["amount"] == balance + 1300 - 1000
    store.locator('[data-tab="orders"]').click()
    store.locator(".order").first.wait_for(timeout=WAIT_MS)
    page.screenshot(path=str(DOCS / "miniapp-orders.png"))
    store.locator('[data-tab="wallet"]').click()
    assert store.locator("#balance").inner_text(timeout=WAIT_MS) == "0.00 USDT"


def test_premium_for_a_friend_paid_by_transfer_is_delivered(browser, stack):
    page, store = open_store(browser, stack, language="zh", theme="dark")
    for_a_friend(store)
    store.locator("#pay-transfer").click()
    store.locator("#transfer").wait_for(timeout=WAIT_MS)
    amount = store.locator("#pay-amount").inner_text()
    address = store.locator("#pay-address").inner_text()
    assert store.locator("#countdown").inner_text().count(":") == 1
    page.screenshot(path=str(DOCS / "miniapp-transfer.png"))

    transfer = build_transfer(amount, address, "ab" * 32, mined_at=datetime.now(timezone.utc))
    raw = json.dumps(transfer).encode()
    paid = httpx.post(f"{stack.api}/webhooks/payments/trc20", content=raw, timeout=10, headers={
        "Content-Type": "application/json", "X-Signature": sign(PAYMENT_SECRET, int(time.time()), raw)})
    assert paid.status_code == 200, paid.text
    assert paid.json()["results"][0]["outcome"] == "MATCHED"

    wait_for_status(store, "DELIVERED")
    page.screenshot(path=str(DOCS / "miniapp-transfer-delivered.png"))
    [gift] = [call for call in sandbox_calls(stack, "giftPremiumSubscription") if call["status"] == 200]
    assert gift["params"]["user_id"] == int(FRIEND)


def test_a_failed_gift_paid_in_stars_is_refunded_once(browser, stack):
    faults = httpx.post(f"{stack.sandbox}/_sandbox/faults", json={
        "method": "giftPremiumSubscription", "error_code": 400, "description": "Bad Request: user not found",
        "times": 5})
    assert faults.status_code == 200
    page, store = open_store(browser, stack, language="ru")
    balance = httpx.get(f"{stack.sandbox}/_sandbox/star-balance").json()["amount"]
    for_a_friend(store)
    store.locator("#pay-stars").click()
    store.locator('#order-status.FAILED').wait_for(timeout=WAIT_MS)
    store.locator("#refund-note").wait_for(timeout=WAIT_MS)
    page.screenshot(path=str(DOCS / "miniapp-stars-refunded.png"))

    time.sleep(3)    # any redelivery of the worker's message would have come by now
    refunds = sandbox_calls(stack, "refundStarPayment")
    assert len(refunds) == 1 and refunds[0]["status"] == 200
    assert httpx.get(f"{stack.sandbox}/_sandbox/star-balance").json()["amount"] == balance
    texts = [call["params"]["text"] for call in sandbox_calls(stack, "sendMessage")
             if call["params"]["chat_id"] == 1001]
    assert any("1300" in text and "возвращены" in text for text in texts)


def test_paying_with_stars_in_the_sandbox_chat(browser, stack):
    """The chat's way: the confirmation's Pay with Stars, the invoice's Pay button, then the delivery."""
    page = browser.new_page(viewport={"width": 900, "height": 1100})
    page.set_default_timeout(20_000)

    def tap(label: str) -> None:
        page.wait_for_timeout(2_100)     # a person's pace: the bot's flood limit
        page.get_by_role("button", name=label).last.click()

    page.goto(stack.sandbox + "/")
    page.fill("#user-id", "4545")
    page.fill("#first-name", "Stars Ann")
    page.fill("#text", "/start")
    page.press("#text", "Enter")
    tap("⭐ Buy Premium")
    tap("3 months · 15.00 USDT")
    tap("Myself")
    tap("⭐ Pay with Stars (1300 Stars)")
    tap("Pay ⭐1300")
    page.get_by_text("Done: 3 months of Telegram Premium were gifted").first.wait_for(timeout=WAIT_MS)
    [answer] = sandbox_calls(stack, "answerPreCheckoutQuery")
    assert answer["params"]["ok"] is True
    page.screenshot(path=str(DOCS / "sandbox-stars-chat.png"), full_page=True)
    page.close()
