"""Operating the bot's Telegram side: the webhook, the command menu and the menu button (the storefront).

    python -m devstack.telegram_admin set-webhook https://<api>/api     (appends /telegram/webhook)
    python -m devstack.telegram_admin webhook-info
    python -m devstack.telegram_admin delete-webhook
    python -m devstack.telegram_admin set-commands

Reads TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET (or their *_SSM_PARAMETER names, as the deployed
functions do) and TELEGRAM_API_BASE_URL (default: Telegram itself) from the environment.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Mapping

WEBHOOK_PATH = "/telegram/webhook"
DEFAULT_MAX_CONNECTIONS = 40
COMMANDS = ("start", "energy", "balance", "orders", "redeem", "language", "help", "cancel")


class AdminError(Exception):
    """Something the operator can fix; printed without a traceback."""


def webhook_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url:
        raise AdminError("give the API's public URL: make set-webhook URL=https://...")
    if not url.startswith("https://") and not url.startswith("http://127.0.0.1") \
            and not url.startswith("http://localhost"):
        raise AdminError(f"{url!r}: Telegram only calls https:// webhooks")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH


def command_menus() -> list[dict[str, Any]]:
    """setMyCommands bodies: English as the default, then one per other catalog language."""
    from chalicelib.i18n import DEFAULT_LANGUAGE, LANGUAGES, text

    menus = []
    for language in LANGUAGES:
        body: dict[str, Any] = {"commands": [{"command": command, "description": text(language, f"command.{command}")}
                                             for command in COMMANDS]}
        if language != DEFAULT_LANGUAGE:
            body["language_code"] = language
        menus.append(body)
    return menus


def _environment(environ: Mapping[str, str]) -> dict[str, str]:
    from chalicelib.config import _resolve_ssm_secrets

    resolved = _resolve_ssm_secrets(environ)
    if not resolved.get("TELEGRAM_BOT_TOKEN"):
        raise AdminError("TELEGRAM_BOT_TOKEN (or TELEGRAM_BOT_TOKEN_SSM_PARAMETER) is not set")
    return resolved


def client(environ: Mapping[str, str]) -> Any:
    from chalicelib.adapters.telegram import TelegramClient

    env = _environment(environ)
    return TelegramClient(env.get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org", env["TELEGRAM_BOT_TOKEN"],
                          timeout_seconds=15, retry_budget_seconds=30)


def set_webhook(url: str, environ: Mapping[str, str], *, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                drop_pending: bool = False) -> dict[str, Any]:
    from chalicelib.bot.updates import ALLOWED_UPDATES

    env = _environment(environ)
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
    if not secret:
        raise AdminError("TELEGRAM_WEBHOOK_SECRET (or TELEGRAM_WEBHOOK_SECRET_SSM_PARAMETER) is not set")
    telegram = client(env)
    target = webhook_url(url)
    telegram.call("setWebhook", {"url": target, "secret_token": secret, "allowed_updates": list(ALLOWED_UPDATES),
                                 "max_connections": max_connections, "drop_pending_updates": drop_pending})
    for menu in command_menus():
        telegram.call("setMyCommands", menu)
    set_menu_button(env.get("MINIAPP_URL") or store_url(target), env)
    return telegram.call("getWebhookInfo", {})


def set_menu_button(url: str, environ: Mapping[str, str]) -> Any:
    return client(environ).call("setChatMenuButton", store_menu_button(url))


def store_url(webhook_target: str) -> str:
    """The storefront the API serves next to its webhook: <api>/store."""
    return webhook_target.removesuffix(WEBHOOK_PATH) + "/store"


def store_menu_button(url: str) -> dict[str, Any]:
    """setChatMenuButton for every chat: the button beside the message field opens the storefront."""
    from chalicelib.i18n import DEFAULT_LANGUAGE, text

    return {"menu_button": {"type": "web_app", "text": text(DEFAULT_LANGUAGE, "miniapp.menu"),
                            "web_app": {"url": url}}}


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.telegram_admin", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    hook = commands.add_parser("set-webhook", help="setWebhook with our secret and allowed_updates, and the menus")
    hook.add_argument("url", nargs="?", default="")
    hook.add_argument("--max-connections", type=int, default=DEFAULT_MAX_CONNECTIONS)
    hook.add_argument("--drop-pending-updates", action="store_true")
    commands.add_parser("webhook-info", help="getWebhookInfo")
    commands.add_parser("delete-webhook", help="deleteWebhook (pending updates are kept)")
    commands.add_parser("set-commands", help="setMyCommands for every language")
    args = parser.parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        if args.command == "set-webhook":
            result = set_webhook(args.url, environ, max_connections=args.max_connections,
                                 drop_pending=args.drop_pending_updates)
        elif args.command == "webhook-info":
            result = client(environ).call("getWebhookInfo", {})
        elif args.command == "delete-webhook":
            result = client(environ).call("deleteWebhook", {})
        else:
            telegram = client(environ)
            result = [telegram.call("setMyCommands", menu) for menu in command_menus()]
    except AdminError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a Telegram refusal, shown to the operator
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
