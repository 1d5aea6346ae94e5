"""Talk to a real bot from a laptop: long-poll getUpdates and feed each update to our webhook.

    export TELEGRAM_BOT_TOKEN=<the token @BotFather gave you>
    TGSHOP_SANDBOX=off make run

With `TGSHOP_SANDBOX=off` the local stack starts no sandbox, keeps the exported token, points the app at
Telegram itself, and runs this poller. Safe by default, because the bot is real:
- Telegram refuses getUpdates while a webhook is set, and that webhook is probably a deployment's. The
  stack stops at start-up naming it, unless TGSHOP_DELETE_WEBHOOK=yes allows deleting it (`make
  set-webhook URL=...` puts it back). A webhook set while polling stops the poller the same way.
- Gifts are a dry run (GIFTS_DRY_RUN, chalicelib/adapters/telegram_dry_run.py): a forged local payment
  must not spend the bot's real Stars. TGSHOP_REAL_GIFTS=yes gifts for real.
- The command menu is set for every language, as `make set-webhook` does for a deployment.
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
DELETE_WEBHOOK_SWITCH = "TGSHOP_DELETE_WEBHOOK"
REAL_GIFTS_SWITCH = "TGSHOP_REAL_GIFTS"
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
    delete_webhook: bool = False   # TGSHOP_DELETE_WEBHOOK=yes
    real_gifts: bool = False       # TGSHOP_REAL_GIFTS=yes

    def environment(self) -> dict[str, str]:
        """What the app processes must see instead of the local stage's fake token and sandbox URL."""
        return {"TELEGRAM_BOT_TOKEN": self.token, CARRIED_TOKEN: self.token,
                "TELEGRAM_API_BASE_URL": self.api_base_url, "GIFTS_DRY_RUN": "false" if self.real_gifts else "true"}


def _switch(environ: Mapping[str, str], name: str, default: str = "no") -> bool:
    return environ.get(name, default).strip().lower() in ("yes", "on", "1", "true")


def real_bot_token(environ: Mapping[str, str]) -> str | None:
    """A real bot's token from the environment, never the local stage's fake one."""
    token = (environ.get(CARRIED_TOKEN) or environ.get("TELEGRAM_BOT_TOKEN") or "").strip()
    return token if token and not token.endswith("LOCAL-TOKEN") and ":" in token else None


def real_bot_from(environ: Mapping[str, str]) -> RealBot | None:
    """Read before the local stage's environment overwrites TELEGRAM_BOT_TOKEN: None keeps the sandbox."""
    if environ.get(SANDBOX_SWITCH, "on").strip().lower() not in ("off", "0", "false", "no"):
        return None
    token = real_bot_token(environ)
    if token is None:
        raise PollerError(f"{SANDBOX_SWITCH}=off needs your bot's real token: export TELEGRAM_BOT_TOKEN=<token>")
    return RealBot(token, environ.get("TGSHOP_TELEGRAM_API", "").strip() or TELEGRAM_API,
                   delete_webhook=_switch(environ, DELETE_WEBHOOK_SWITCH),
                   real_gifts=_switch(environ, REAL_GIFTS_SWITCH))


def telegram_call(http: Any, api: str, method: str, params: dict[str, Any], timeout: float = 15) -> Any:
    response = http.post(api + method, json=params, timeout=timeout)
    body = response.json()
    if not body.get("ok"):
        raise RuntimeError(f"{method}: {body.get('error_code')} {body.get('description')}")
    return body["result"]


def take_over_updates(http: Any, api: str, *, delete_webhook: bool) -> None:
    """Make getUpdates possible: a webhook is deleted only when the developer said so."""
    url = telegram_call(http, api, "getWebhookInfo", {}).get("url")
    if not url:
        return
    if not delete_webhook:
        raise PollerError(f"the bot has a webhook ({url}), probably a deployment's, and polling would need it "
                          f"deleted. Use another bot, or set {DELETE_WEBHOOK_SWITCH}=yes to delete it "
                          "(put it back afterwards with: make set-webhook URL=...)")
    log.warning("deleting the bot's webhook (%s) so getUpdates works, as %s=yes asked. "
                "Restore it later with: make set-webhook URL=...", url, DELETE_WEBHOOK_SWITCH)
    telegram_call(http, api, "deleteWebhook", {"drop_pending_updates": False})


def prepare_real_bot(bot: RealBot, *, transport: Any = None) -> None:
    """Before the stack starts: the webhook question answered, the command menu set in every language."""
    import httpx

    from devstack.telegram_admin import command_menus

    api = f"{bot.api_base_url.rstrip('/')}/bot{bot.token}/"
    try:
        with httpx.Client(transport=transport) as http:
            take_over_updates(http, api, delete_webhook=bot.delete_webhook)
            for menu in command_menus():
                telegram_call(http, api, "setMyCommands", menu)
    except (httpx.HTTPError, RuntimeError, ValueError) as error:
        raise PollerError(f"Telegram did not accept the bot's set-up ({error})") from None


class TelegramPoller(threading.Thread):
    def __init__(self, token: str, api_base_url: str, webhook_url: str, webhook_secret: str, *,
                 stop: threading.Event, allowed_updates: tuple[str, ...], poll_timeout: int = POLL_TIMEOUT_SECONDS,
                 delete_webhook: bool = False, transport: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name="telegram-poller", daemon=True)
        self._api = f"{api_base_url.rstrip('/')}/bot{token}/"
        self._delete_webhook = delete_webhook
        self.failure: PollerError | None = None  # set when polling stopped for good
        self._webhook_url = webhook_url
        self._secret = webhook_secret
        self._stop_event = stop
        self._allowed = list(allowed_updates)
        self._poll_timeout = poll_timeout
        self._transport = transport
        self._sleep = sleep
        self.offset = 0
        self.delivered = 0

    def poll_once(self, http: Any) -> int:
        updates = telegram_call(http, self._api, "getUpdates", {"offset": self.offset, "timeout": self._poll_timeout,
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
                        take_over_updates(http, self._api, delete_webhook=self._delete_webhook)
                        checked = True
                    self.poll_once(http)
                    backoff = 1.0
                except PollerError as error:  # a webhook was set meanwhile and may not be deleted
                    self.failure = error
                    log.error("polling Telegram stopped: %s", error)
                    return
                except Exception as error:  # noqa: BLE001 - network trouble: wait, then poll again
                    if "409" in str(error):
                        checked = False  # a webhook was set meanwhile, or another poller runs: look again
                    log.warning("polling Telegram failed (%s); retrying in %.0f s", error, backoff)
                    self._stop_event.wait(backoff)
                    backoff = min(backoff * 2, 30.0)


def real_bot_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """Environment overrides for the local stack's processes: none while the sandbox is on."""
    real = real_bot_from(environ)
    return real.environment() if real else {}


def start_poller(token: str, webhook_url: str, webhook_secret: str, *, stop: threading.Event,
                 api_base_url: str = TELEGRAM_API, poll_timeout: int = POLL_TIMEOUT_SECONDS,
                 delete_webhook: bool = False, transport: Any = None) -> TelegramPoller:
    """Start polling in a daemon thread; it ends soon after `stop` is set (at most one poll timeout), or
    by itself, with `failure` set, when a webhook appears that it may not delete."""
    from chalicelib.bot.updates import ALLOWED_UPDATES

    poller = TelegramPoller(token, api_base_url, webhook_url, webhook_secret, stop=stop,
                            allowed_updates=ALLOWED_UPDATES, poll_timeout=poll_timeout,
                            delete_webhook=delete_webhook, transport=transport)
    poller.start()
    log.info("polling Telegram for the bot's updates; they go to %s", webhook_url)
    return poller
