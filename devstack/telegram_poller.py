"""Talk to a real bot from a laptop: long-poll getUpdates and feed each update to our webhook.

    export TELEGRAM_BOT_TOKEN=<the token @BotFather gave you>
    TGSHOP_SANDBOX=off make run

With `TGSHOP_SANDBOX=off` the local stack starts no sandbox, keeps the exported token, points the app at
Telegram itself, and runs this poller. Telegram refuses getUpdates while a webhook is set, so the poller
deletes any webhook first, with a warning (`make set-webhook URL=...` puts a deployed one back).
Each update is POSTed to the local API's /telegram/webhook with the secret header, exactly what Telegram
would send, so the code path is the deployed one. The offset only moves past an update once the
webhook answered it (any HTTP answer: a 5xx is the app's error, logged, not retried forever).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from devstack.localenv import StackError

SANDBOX_SWITCH = "TGSHOP_SANDBOX"
# The real token travels to the API process under this name too: `chalice local` resets
# TELEGRAM_BOT_TOKEN there to the local stage's fake one.
CARRIED_TOKEN = "TGSHOP_BOT_TOKEN"
TELEGRAM_API = "https://api.telegram.org"
POLL_TIMEOUT_SECONDS = 25
log = logging.getLogger("devstack")


class PollerError(StackError):
    """A setting the developer must fix before the real bot can be polled."""


@dataclass(frozen=True)
class RealBot:
    token: str
    api_base_url: str = TELEGRAM_API

    def environment(self) -> dict[str, str]:
        """What the app processes must see instead of the local stage's fake token and sandbox URL."""
        return {"TELEGRAM_BOT_TOKEN": self.token, CARRIED_TOKEN: self.token,
                "TELEGRAM_API_BASE_URL": self.api_base_url}


def real_bot_from(environ: Mapping[str, str]) -> RealBot | None:
    """Read before the local stage's environment overwrites TELEGRAM_BOT_TOKEN: None keeps the sandbox."""
    if environ.get(SANDBOX_SWITCH, "on").strip().lower() not in ("off", "0", "false", "no"):
        return None
    token = (environ.get(CARRIED_TOKEN) or environ.get("TELEGRAM_BOT_TOKEN") or "").strip()
    if not token or token.endswith("LOCAL-TOKEN") or ":" not in token:
        raise PollerError(f"{SANDBOX_SWITCH}=off needs your bot's real token: export TELEGRAM_BOT_TOKEN=<token>")
    return RealBot(token, environ.get("TGSHOP_TELEGRAM_API", "").strip() or TELEGRAM_API)


class TelegramPoller(threading.Thread):
    def __init__(self, token: str, api_base_url: str, webhook_url: str, webhook_secret: str, *,
                 stop: threading.Event, allowed_updates: tuple[str, ...], poll_timeout: int = POLL_TIMEOUT_SECONDS,
                 transport: Any = None, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name="telegram-poller", daemon=True)
        self._api = f"{api_base_url.rstrip('/')}/bot{token}/"
        self._webhook_url = webhook_url
        self._secret = webhook_secret
        self._stop_event = stop
        self._allowed = list(allowed_updates)
        self._poll_timeout = poll_timeout
        self._transport = transport
        self._sleep = sleep
        self.offset = 0
        self.delivered = 0

    def _telegram(self, http: Any, method: str, params: dict[str, Any], timeout: float = 15) -> Any:
        response = http.post(self._api + method, json=params, timeout=timeout)
        body = response.json()
        if not body.get("ok"):
            raise RuntimeError(f"{method}: {body.get('error_code')} {body.get('description')}")
        return body["result"]

    def drop_webhook(self, http: Any) -> None:
        info = self._telegram(http, "getWebhookInfo", {})
        if info.get("url"):
            log.warning("the bot had a webhook (%s); deleting it so getUpdates works. "
                        "Restore it later with: make set-webhook URL=...", info["url"])
            self._telegram(http, "deleteWebhook", {"drop_pending_updates": False})

    def poll_once(self, http: Any) -> int:
        updates = self._telegram(http, "getUpdates", {"offset": self.offset, "timeout": self._poll_timeout,
                                                      "allowed_updates": self._allowed},
                                 timeout=self._poll_timeout + 10)
        for update in updates:
            response = http.post(self._webhook_url, json=update, timeout=60,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": self._secret})
            if response.status_code >= 300:
                log.warning("the webhook answered update %s with HTTP %s", update.get("update_id"),
                            response.status_code)
            self.offset = max(self.offset, int(update["update_id"]) + 1)
            self.delivered += 1
        return len(updates)

    def run(self) -> None:
        import httpx

        backoff, checked = 1.0, False
        with httpx.Client(transport=self._transport) as http:
            while not self._stop_event.is_set():
                try:
                    if not checked:
                        self.drop_webhook(http)
                        checked = True
                    self.poll_once(http)
                    backoff = 1.0
                except Exception as error:  # noqa: BLE001 - network trouble: wait, then poll again
                    if "409" in str(error):
                        checked = False  # a webhook was set meanwhile: delete it again
                    log.warning("polling Telegram failed (%s); retrying in %.0f s", error, backoff)
                    self._stop_event.wait(backoff)
                    backoff = min(backoff * 2, 30.0)


def real_bot_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """Environment overrides for the local stack's processes: none while the sandbox is on."""
    real = real_bot_from(environ)
    return real.environment() if real else {}


def start_poller(token: str, webhook_url: str, webhook_secret: str, *, stop: threading.Event,
                 api_base_url: str = TELEGRAM_API, poll_timeout: int = POLL_TIMEOUT_SECONDS,
                 transport: Any = None) -> TelegramPoller:
    """Start polling in a daemon thread; it ends soon after `stop` is set (at most one poll timeout)."""
    from chalicelib.bot.updates import ALLOWED_UPDATES

    poller = TelegramPoller(token, api_base_url, webhook_url, webhook_secret, stop=stop,
                            allowed_updates=ALLOWED_UPDATES, poll_timeout=poll_timeout, transport=transport)
    poller.start()
    log.info("polling Telegram for the bot's updates; they go to %s", webhook_url)
    return poller
