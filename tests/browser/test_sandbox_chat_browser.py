"""A person in the sandbox web chat: Chromium (Debian's, driven by Playwright) against the real local stack
(`python -m devstack run` on free ports). Buying Premium from /start to the delivery message, and the wallet:
a top-up, paying from the balance, and a failed gift refunded. Each writes its screenshot to docs/."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.local_stack import PROJECT_DIR, START_TIMEOUT, LocalStack

pytestmark = pytest.mark.browser

SCREENSHOT = PROJECT_DIR / "docs" / "sandbox-chat.png"
WALLET_SCREENSHOT = PROJECT_DIR / "docs" / "sandbox-wallet.png"
CHROMIUM = "/usr/bin/chromium"
EMOJI_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
# What the tests need of the system: the browser, and an emoji font (the bot's buttons and notices start with
# one; without it the screenshots show empty boxes).
SYSTEM_PACKAGES = {CHROMIUM: "chromium", EMOJI_FONT: "fonts-noto-color-emoji"}
PACE_MS = 2_100   # a person's pace: the bot answers at most 30 updates a minute (after a burst of 8)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ensure_chromium() -> str:
    """Debian's Chromium and the emoji font, installed here if missing. Without Chromium the tests skip; without
    the font they run."""
    missing = [package for path, package in SYSTEM_PACKAGES.items() if not os.path.exists(path)]
    problem = _apt_install(missing) if missing else None
    if not os.path.exists(CHROMIUM):
        pytest.skip(problem or f"apt-get installed chromium but {CHROMIUM} is not there")
    return CHROMIUM


def _apt_install(packages: list[str]) -> str | None:
    """None, or why the packages could not be installed."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return f"{', '.join(packages)} missing and cannot be installed here (needs apt-get as root): " \
               f"apt-get install -y {' '.join(packages)}"
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", *packages]):
        result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            return f"installing {', '.join(packages)} failed ({' '.join(command)}): {result.stderr[-500:]}"
    return None


@pytest.fixture(scope="module")
def browser():
    executable = ensure_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -r requirements-dev.txt")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def stack():
    started = LocalStack()
    started.wait_until(lambda: started.healthy() and _answers(started.sandbox + "/"), START_TIMEOUT,
                       "the API and the sandbox")
    yield {"sandbox": started.sandbox, "log": started.log_tail}
    started.stop()


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_buying_premium_by_clicking_through_the_sandbox_chat(browser, stack):
    page = browser.new_page(viewport={"width": 900, "height": 1100})
    page.set_default_timeout(20_000)
    try:
        page.goto(stack["sandbox"] + "/")
        page.fill("#user-id", "4242")
        page.fill("#first-name", "Browser <Ann>")
        page.fill("#text", "/start")
        page.press("#text", "Enter")
        page.get_by_role("button", name="⭐ Buy Premium").click()
        page.get_by_role("button", name="3 months · 15.00 USDT").click()
        page.get_by_role("button", name="Myself").click()
        page.get_by_role("button", name="✅ Confirm").click()
        page.get_by_text("Send exactly").wait_for()
        assert page.locator(".message.bot code").count() >= 3  # order id, amount, address
        page.click("#pay")
        page.get_by_text("Payment received for order").first.wait_for()
        page.get_by_text("Done: 3 months of Telegram Premium were gifted").first.wait_for(timeout=30_000)
        # The greeting's menu became the payment message and then the delivery status, edited in place.
        edited = page.locator(".message.bot.edited").first.inner_text()
        assert "Done: 3 months" in edited
        assert page.locator(".message.user").first.inner_text() == "/start"
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    except Exception:
        print(stack["log"]())
        raise
    finally:
        page.close()


def test_the_wallet_by_clicking_top_up_pay_from_balance_and_a_failed_gift_refunded(browser, stack):
    import httpx

    page = browser.new_page(viewport={"width": 900, "height": 1100})
    page.set_default_timeout(20_000)

    def say(words: str) -> None:
        page.wait_for_timeout(PACE_MS)
        page.fill("#text", words)
        page.press("#text", "Enter")

    def tap(label: str) -> None:
        page.wait_for_timeout(PACE_MS)
        page.get_by_role("button", name=label).last.click()

    def buy_three_months() -> None:
        say("/start")
        tap("⭐ Buy Premium")
        tap("3 months · 15.00 USDT")
        tap("Myself")

    try:
        page.goto(stack["sandbox"] + "/")
        page.fill("#user-id", "4343")
        page.fill("#first-name", "Wallet Ann")
        say("/start")
        tap("💰 Wallet")
        page.get_by_text("Balance: 0.00 USDT").wait_for()
        tap("➕ Top up")
        tap("25.00 USDT")
        page.get_by_text("Send exactly").wait_for()
        page.click("#pay")
        page.get_by_text("Your wallet was topped up by 25.0").first.wait_for(timeout=30_000)

        buy_three_months()
        tap("💰 Pay with balance (15.00 USDT)")
        # The receipt ("paid from your wallet") may become "Done" before the page polls again: wait for that.
        page.get_by_text("Done: 3 months of Telegram Premium were gifted").first.wait_for(timeout=30_000)

        # Telegram refuses the next gift for good: its price goes back to the wallet.
        httpx.post(stack["sandbox"] + "/_sandbox/faults", json={
            "method": "giftPremiumSubscription", "error_code": 400,
            "description": "Bad Request: PREMIUM_GIFT_FAILED"}).raise_for_status()
        buy_three_months()
        tap("Top up the difference")
        page.get_by_text("the purchase you chose is paid from your wallet").wait_for()
        page.click("#pay")
        page.get_by_text("USDT you paid was refunded to your wallet").wait_for(timeout=30_000)

        say("/balance")
        tap("📜 History")
        page.get_by_text("Wallet history").wait_for()
        history = page.locator(".message.bot").last.inner_text()
        assert history.count("−15.00 USDT") == 2 and "Refund of order" in history
        WALLET_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(WALLET_SCREENSHOT), full_page=True)
    except Exception:
        print(stack["log"]())
        raise
    finally:
        page.close()
