"""The sandbox as a Flask app: the Bot API route, the `/_sandbox/...` control endpoints, the calls page,
and serving it all over real HTTP from a thread.

The pages are Jinja templates in `templates/`, their CSS and JS plain files in `static/` (served under
`/_sandbox/static/`); both are found next to this file, whatever the working directory.
"""
from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable

import flask
from werkzeug.serving import make_server

from devstack.sandbox.chat import ChatRelay, register_chat_routes
from devstack.sandbox.facts import DEFAULT_USDT_CONTRACT
from devstack.sandbox.methods import METHODS, call_method
from devstack.sandbox.params import collect_params
from devstack.sandbox.responses import BadRequest, error_body, json_response
from devstack.sandbox.state import FaultRule, SandboxState
from devstack.sandbox.webapp import register_webapp_routes

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_URL_PATH = "/_sandbox/static"
DEFAULT_TOKEN_PATTERN = r"^\d+:[A-Za-z0-9_-]+$"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's own limit for bot uploads


def parse_fault(body: Any) -> FaultRule:
    """Validate a POST /_sandbox/faults body; raises ValueError with a message for the caller."""
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    spec = METHODS.get(str(body.get("method", "")).lower())
    if spec is None:
        raise ValueError(f"unknown method {body.get('method')!r}")

    def number(key: str, kind: type, default: Any, minimum: float) -> Any:
        value = body.get(key, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int) \
                or value < minimum:
            raise ValueError(f"{key} must be a number >= {minimum}")
        return value

    rule = FaultRule(method=spec.name, times=number("times", int, 1, 1),
                     error_code=number("error_code", int, None, 400),
                     retry_after=number("retry_after", int, None, 0),
                     delay_seconds=number("delay_seconds", float, 0.0, 0),
                     description=body.get("description"), after_acting=body.get("after_acting", False))
    if rule.error_code is not None and rule.error_code > 599:
        raise ValueError("error_code must be between 400 and 599")
    if not isinstance(rule.after_acting, bool):
        raise ValueError("after_acting must be true or false")
    if rule.after_acting and rule.error_code is None:
        raise ValueError("after_acting needs an error_code")
    if rule.description is not None and not isinstance(rule.description, str):
        raise ValueError("description must be a string")
    if rule.error_code is None and not rule.delay_seconds:
        raise ValueError("a fault needs error_code, delay_seconds or both")
    return rule


def pretty_json(value: Any) -> str:
    """Recorded params as the calls page shows them (the template escapes the result)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def create_sandbox_app(*, bot_token_pattern: str = DEFAULT_TOKEN_PATTERN, webhook_target: str | None = None,
                       webhook_secret: str | None = None, payment_target: str | None = None,
                       payment_secret: str | None = None, usdt_contract: str = DEFAULT_USDT_CONTRACT,
                       http_transport: Any = None, clock: Callable[[], float] = time.time) -> flask.Flask:
    """The fake Bot API and the web chat. `webhook_target`/`webhook_secret`: where the chat's updates
    go (none: they wait for getUpdates). `payment_target`/`payment_secret`/`usdt_contract`: the TRC20
    webhook that "Simulate payment" signs and posts to. `http_transport`: an httpx transport for
    those posts (tests route them into an app in the same process); `clock`: the time payments are
    signed at (a test's fake clock)."""
    app = flask.Flask(__name__, static_folder=STATIC_DIR, static_url_path=STATIC_URL_PATH,
                      template_folder=TEMPLATES_DIR)
    app.add_template_filter(pretty_json)
    app.config.update(SANDBOX_WEBHOOK_TARGET=webhook_target, SANDBOX_WEBHOOK_SECRET=webhook_secret,
                      SANDBOX_PAYMENT_TARGET=payment_target, SANDBOX_PAYMENT_SECRET=payment_secret,
                      SANDBOX_USDT_CONTRACT=usdt_contract, MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES)
    state = SandboxState()
    app.extensions["sandbox"] = state
    token_pattern = re.compile(bot_token_pattern)
    relay = ChatRelay(app, state, http_transport, clock)
    register_chat_routes(app, state, relay)
    register_webapp_routes(app, state, relay)

    @app.route("/bot<token>/<method_name>", methods=["GET", "POST"])
    def bot_api(token: str, method_name: str) -> flask.Response:
        spec = METHODS.get(method_name.lower())
        try:
            raw, unreadable = collect_params(flask.request), None
        except BadRequest as error:
            raw, unreadable = {}, error
        status, body, params = call_method(state, token_pattern, token, method_name, raw, unreadable)
        state.record_call(spec.name if spec else method_name, params, token, status, body)
        return json_response(body, status)

    @app.get("/_sandbox/calls")
    def list_calls() -> flask.Response:
        return json_response(state.calls(flask.request.args.get("method") or None))

    @app.delete("/_sandbox/calls")
    def clear_calls() -> flask.Response:
        state.clear_calls()
        return json_response({"ok": True})

    @app.get("/_sandbox/faults")
    def list_faults() -> flask.Response:
        return json_response(state.faults())

    @app.post("/_sandbox/faults")
    def add_fault() -> flask.Response:
        try:
            rule = parse_fault(flask.request.get_json(silent=True))
        except ValueError as error:
            return json_response({"ok": False, "description": str(error)}, 400)
        state.add_fault(rule)
        return json_response({"ok": True, "fault": dataclasses.asdict(rule)})

    @app.delete("/_sandbox/faults")
    def clear_faults() -> flask.Response:
        state.clear_faults()
        return json_response({"ok": True})

    @app.get("/_sandbox/star-balance")
    def get_star_balance() -> flask.Response:
        return json_response({"amount": state.star_balance})

    @app.put("/_sandbox/star-balance")
    def put_star_balance() -> flask.Response:
        body = flask.request.get_json(silent=True)
        amount = body.get("amount") if isinstance(body, dict) else None
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            return json_response({"ok": False, "description": "amount must be an integer >= 0"}, 400)
        state.set_star_balance(amount)
        return json_response({"amount": amount})

    @app.post("/_sandbox/reset")
    def reset() -> flask.Response:
        state.reset()
        return json_response({"ok": True})

    @app.get("/calls")
    def calls_page() -> str:
        return flask.render_template("calls.html", calls=state.calls())

    @app.errorhandler(404)
    def not_found(error: Exception) -> flask.Response:
        return json_response(error_body(404, "Not Found"), 404)

    @app.errorhandler(413)
    def too_large(error: Exception) -> flask.Response:
        return json_response(error_body(413, "Request Entity Too Large"), 413)

    return app


# --- serving --------------------------------------------------------------------------------------


class SandboxServer:
    """A sandbox app served over real HTTP from a daemon thread."""

    def __init__(self, host: str, port: int, app: flask.Flask) -> None:
        self.app = app
        self._server = make_server(host, port, app, threaded=True)
        url_host = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
        self.url = f"http://{url_host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="telegram-sandbox", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


def serve_sandbox(host: str, port: int, **app_kwargs: Any) -> SandboxServer:
    """Start the sandbox on host:port (0 picks a free port) and return at once."""
    return SandboxServer(host, port, create_sandbox_app(**app_kwargs))
