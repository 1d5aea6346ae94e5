"""A person buys energy and exchanges TRX in the sandbox web chat: Chromium against the real local stack
(`python -m devstack run` on free ports, with its fake TRON node). The payout lands on the fake chain and the
notice shows its transaction id. The screenshot goes to docs/sandbox-tron.png."""
from __future__ import annotations

import httpx
import pytest

from tests.browser.test_sandbox_chat_browser import PACE_MS, browser  # noqa: F401 - the fixture
from tests.local_stack import PROJECT_DIR, START_TIMEOUT, LocalStack

pytestmark = pytest.mark.browser

SCREENSHOT = PROJECT_DIR / "docs" / "sandbox-tron.png"
RECEIVER = "TKrZRAWshDdt61PwMf2bzvreo8yoYvDJNp"      # one of the local chain's buyer addresses


@pytest.fixture
def stack():
    started = LocalStack()
    started.wait_until(lambda: started.healthy() and _answers(started.sandbox + "/") and _answers(
        started.tron + "/_node/state"), START_TIMEOUT, "the API, the sandbox and the TRON node")
    yield started
    started.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_renting_energy_and_exchanging_trx_in_the_sandbox_chat(browser, stack):  # noqa: F811 - the fixture
    page = browser.new_page(viewport={"width": 900, "height": 1400})
    page.set_default_timeout(20_000)

    def say(words: str) -> None:
        page.wait_for_timeout(PACE_MS)
        page.fill("#text", words)
        page.press("#text", "Enter")

    def tap(label: str) -> None:
        page.wait_for_timeout(PACE_MS)
        page.get_by_role("button", name=label).last.click()

    try:
        page.goto(stack.sandbox + "/")
        page.fill("#user-id", "4545")
        page.fill("#first-name", "Tron Ann")
        say("/energy")
        tap("65,000 energy · 1 h · 2.50 USDT")
        page.get_by_text("Send the TRON address").wait_for()
        say(RECEIVER)
        page.get_by_text("Send exactly").wait_for()
        page.click("#pay")
        page.get_by_text("energy is on").first.wait_for(timeout=40_000)

        say("/start")
        tap("🔁 TRX exchange")
        tap("20 TRX · 5.15 USDT")
        say(RECEIVER)
        page.get_by_text("20 TRX to").wait_for()
        page.click("#pay")
        page.get_by_text("TRX sent to").first.wait_for(timeout=40_000)

        chain = httpx.get(stack.tron + "/_node/state").json()
        receiver = chain["accounts"][RECEIVER]
        assert receiver["acquired_energy_sun"] == 6_500 * 1_000_000
        assert receiver["balance_sun"] == 1_000_000 + 20_000_000
        assert len(chain["landed"]) == 2
        notices = page.locator(".message.bot").all_inner_texts()
        assert all(any(tx in text for text in notices) for tx in chain["landed"])
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    except Exception:
        print(stack.log_tail())
        raise
    finally:
        page.close()
