"""The Mini App side of the sandbox: a phone-sized page that opens the bot's storefront the way Telegram does
(signed init data and theme parameters in the URL's fragment), a stand-in for telegram-web-app.js that reads
them into `Telegram.WebApp`, and the Stars payment endpoints its `openInvoice` and tests call."""
from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote

import flask

from devstack.sandbox.chat import ChatUser
from devstack.sandbox.responses import json_response
from devstack.sandbox.stars import pay_invoice, send_successful_payment, stars_of

if TYPE_CHECKING:
    from devstack.sandbox.chat import ChatRelay
    from devstack.sandbox.state import SandboxState

# Telegram's own palettes (abridged) for the two color schemes.
THEMES = {
    "light": {"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#999999", "link_color": "#2481cc",
              "button_color": "#2481cc", "button_text_color": "#ffffff", "secondary_bg_color": "#efeff3",
              "section_bg_color": "#ffffff", "accent_text_color": "#2481cc", "destructive_text_color": "#e53935"},
    "dark": {"bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#708499", "link_color": "#6ab3f3",
             "button_color": "#5288c1", "button_text_color": "#ffffff", "secondary_bg_color": "#232e3c",
             "section_bg_color": "#17212b", "accent_text_color": "#6ab2f2", "destructive_text_color": "#ec3942"},
}
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type"}


def storefront_url(state: SandboxState, chat_id: int) -> str | None:
    """The web app the bot's menu button opens in this chat (its own, else the default one)."""
    buttons = stars_of(state).menu_buttons
    for key in (str(chat_id), "default"):
        button = buttons.get(key) or {}
        if button.get("type") == "web_app":
            return button["web_app"]["url"]
    return None


def launch_fragment(token: str, user: ChatUser, theme: str) -> str:
    from chalicelib.domain.signatures import build_init_data

    init_data = build_init_data(token, user.as_json() | {"is_bot": False}, int(time.time()),
                                {"query_id": f"AAE{user.user_id}", "chat_type": "sender"})
    return (f"tgWebAppData={quote(init_data)}&tgWebAppVersion=8.0&tgWebAppPlatform=sandbox"
            f"&tgWebAppThemeParams={quote(json.dumps(THEMES[theme]))}&tgWebAppColorScheme={theme}")


def register_webapp_routes(app: flask.Flask, state: SandboxState, relay: ChatRelay) -> None:
    stars_of(state)   # made now, before the server's threads could race to make it
    def cors(response: flask.Response) -> flask.Response:
        response.headers.update(CORS)
        return response

    def run(action: Callable[[dict[str, Any]], dict[str, Any]]) -> flask.Response:
        if flask.request.method == "OPTIONS":
            return cors(flask.Response(status=204))
        body = flask.request.get_json(silent=True)
        try:
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return cors(json_response(action(body)))
        except ValueError as error:
            return cors(json_response({"ok": False, "description": str(error)}, 400))

    @app.get("/_sandbox/miniapp")
    def miniapp_page() -> Any:
        args = flask.request.args
        try:
            user = ChatUser.from_body(dict(args.items()))
        except ValueError as error:
            return json_response({"ok": False, "description": str(error)}, 400)
        theme = args.get("theme", "light") if args.get("theme") in THEMES else "light"
        url = args.get("url") or storefront_url(state, user.user_id)
        token = stars_of(state).token
        if not url or not token:
            return json_response({"ok": False, "description": "the bot has set no web_app menu button yet "
                                                              "(make set-webhook), or pass url="}, 409)
        return flask.render_template("miniapp.html", src=f"{url}#{launch_fragment(token, user, theme)}",
                                     theme=THEMES[theme], user=user)

    @app.get("/_sandbox/telegram-web-app.js")
    def webapp_script() -> flask.Response:
        response = app.send_static_file("telegram-web-app.js")
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.route("/_sandbox/stars/pay", methods=["POST", "OPTIONS"])
    def stars_pay() -> flask.Response:
        def action(body: dict[str, Any]) -> dict[str, Any]:
            invoice = body.get("invoice")
            if not isinstance(invoice, str) or not invoice:
                raise ValueError("invoice (a link or a payload) is required")
            return pay_invoice(relay, ChatUser.from_body(body), invoice)
        return run(action)

    @app.route("/_sandbox/stars/replay", methods=["POST", "OPTIONS"])
    def stars_replay() -> flask.Response:
        def action(body: dict[str, Any]) -> dict[str, Any]:
            return send_successful_payment(relay, ChatUser.from_body(body), str(body.get("charge_id", "")))
        return run(action)

    @app.get("/_sandbox/stars")
    def stars_book() -> flask.Response:
        book = stars_of(state)
        return json_response({"balance": state.star_balance, "charges": book.charges,
                              "menu_buttons": book.menu_buttons, "transactions": book.transactions(0, 100)})
