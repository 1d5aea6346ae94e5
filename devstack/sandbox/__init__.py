"""A fake Telegram Bot API for local development and tests, and a web chat to talk to the bot.

It answers the handful of Bot API methods tgshop uses with Telegram's own response and
error shapes, records every call for inspection, and lets a test inject faults (429, 5xx,
slow answers, or an error answered after the call took effect: "gifted, then 502") or change the bot's
star balance through `/_sandbox/...` control endpoints.
Validation follows Telegram's rules and error wording for the parameters tgshop sends, so a
malformed request fails locally instead of in production.

`/` is a small web chat: pick a user, type messages, press inline buttons, share a user for a
`request_users` button; each becomes a real Update posted to the app's webhook with the secret
header (or queued for getUpdates when no webhook target is set). The bot's replies are kept per
chat, HTML rendered and edits applied in place. "Simulate payment" posts a signed TRC20 webhook
for the amount and address the newest payment message shows. `/calls` lists the recorded calls.

Modules: `params` (parameter types and rules, Telegram's HTML parse mode), `methods` (the Bot API
methods and their answers), `state` (what the sandbox remembers), `chat` (the web chat's endpoints
and message rendering), `server` (the Flask app, control endpoints, serving over HTTP), `facts`
(product facts read from the app), `stars` (invoices, Stars payments and refunds, the Star history, the
menu button) and `webapp` (the Mini App launch page, a `Telegram.WebApp` stand-in and the payment simulation
its `openInvoice` runs). The pages live in `templates/` and `static/`.
"""
from __future__ import annotations

from devstack.sandbox.chat import render_html
from devstack.sandbox.params import parse_html_text
from devstack.sandbox.server import SandboxServer, create_sandbox_app, serve_sandbox
from devstack.sandbox.state import DEFAULT_STAR_BALANCE, FaultRule, SandboxState

__all__ = ["DEFAULT_STAR_BALANCE", "FaultRule", "SandboxServer", "SandboxState", "create_sandbox_app",
           "parse_html_text", "render_html", "serve_sandbox"]
