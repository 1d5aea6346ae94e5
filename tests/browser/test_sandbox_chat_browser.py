"""A person buying Premium in the sandbox web chat: Chromium (Debian's, driven by Playwright) against the
real local stack (`python -m devstack run` on free ports), from /start to the delivery message."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.local_stack import PROJECT_DIR, START_TIMEOUT, LocalStack

pytestmark = pytest.mark.browser

SCREENSHOT = PROJECT_DIR / "docs" / "sandbox-chat.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ensure_chromium() -> str:
    """Debian's Chromium, installed here if missing (the test set-up's one system dependency)."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and cannot be installed here (needs apt-get as root): "
                    "apt-get install -y chromium")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
        result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            pytest.skip(f"installing Chromium failed ({' '.join(command)}): {result.stderr[-500:]}")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"apt-get installed chromium but {CHROMIUM} is not there")
    return CHROMIUM


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
