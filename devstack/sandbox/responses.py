"""Telegram's answer shapes: the 400 a malformed call gets, the error body and the JSON response."""
from __future__ import annotations

import json
from typing import Any

import flask


class BadRequest(Exception):
    """A request Telegram would refuse with 400; `reason` is the text after "Bad Request: "."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.description = f"Bad Request: {reason}"


def error_body(error_code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": error_code, "description": description}


def json_response(body: Any, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
