"""One Lambda-like container of the load run, in a process of its own: its own app, Container and clients, one
request at a time (Chalice keeps the current request on the app object, so a container serves one request at
a time, as in Lambda). `start_tgshop` or `start_bare` is the pool's initializer, `perform` its work."""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

_client: Any = None
_env: dict[str, str] = {}


def start_tgshop(env: dict[str, str]) -> None:
    global _client, _env
    os.environ.update(env)
    _env = env
    from chalice.test import Client

    from app import app
    from chalicelib.config import load_settings
    from chalicelib.container import Container, set_container
    from chalicelib.observability import logger

    logger.setLevel("ERROR")
    sys.stdout = open(os.devnull, "w")   # metrics are still formatted (part of the cost), then dropped
    set_container(Container(load_settings(env)))
    _client = Client(app).__enter__()


def start_bare(env: dict[str, str], replay: dict[str, list], recorded_orders: dict[str, str],
               telegram_url: str) -> None:
    """A bare Chalice app whose route replays a kind's recorded calls (on the request's order, when it names one):
    boto3 for AWS, urllib for the Bot API."""
    global _client, _env
    os.environ.update(env)
    _env = env
    import urllib.request

    import boto3
    from botocore import xform_name
    from chalice import Chalice
    from chalice.test import Client

    from bench.cold_support import on_order

    clients = {service: boto3.client(service) for service in ("dynamodb", "sqs")}
    bare = Chalice(app_name="bare")

    @bare.route("/replay/{kind}", methods=["POST"])
    def replayed(kind: str) -> dict:
        order_id = (bare.current_request.json_body or {}).get("order_id")
        for service, name, params in on_order(replay[kind], recorded_orders.get(kind), order_id):
            if service == "telegram":
                request = urllib.request.Request(f"{telegram_url}/{name}", data=json.dumps(params).encode(),
                                                 headers={"Content-Type": "application/json"})
                urllib.request.urlopen(request, timeout=10).read()
                continue
            getattr(clients[service], xform_name(name))(**params)
        return {}

    _client = Client(bare).__enter__()


def perform(task: tuple[str, Any]) -> tuple[str, float, bool, str]:
    """(kind, seconds, succeeded, what it made: an order or redemption id)."""
    kind, payload = task
    began = time.perf_counter()
    if "bare" in payload:
        answer = _client.http.post(f"/replay/{kind}", body=json.dumps({"order_id": payload["bare"]}),
                                   headers={"Content-Type": "application/json"})
        return kind, time.perf_counter() - began, answer.status_code == 200, ""
    answer = _send(kind, payload)
    seconds = time.perf_counter() - began
    body = answer.json_body or {}
    made = {"order": body.get("order_id"), "payment": payload.get("order", {}).get("order_id"),
            "redeem": body.get("redemption_id")}.get(kind) or ""
    ok = answer.status_code in (200, 201) and (kind != "payment" or body["results"][0]["outcome"] == "MATCHED")
    if not ok:
        print(f"[load] {kind} answered {answer.status_code}: {str(answer.body)[:300]}", file=sys.stderr, flush=True)
    return kind, seconds, ok, made


def _send(kind: str, payload: dict) -> Any:
    from chalicelib.domain.signatures import build_init_data, sign_payload

    now = int(time.time())
    if kind == "telegram":
        user_id = payload["user_id"]
        update = {"update_id": user_id, "message": {
            "message_id": 1, "date": now, "text": "/start", "entities": [{"offset": 0, "length": 6,
                                                                         "type": "bot_command"}],
            "from": {"id": user_id, "is_bot": False, "first_name": "Load", "language_code": "en"},
            "chat": {"id": user_id, "type": "private", "first_name": "Load"}}}
        return _client.http.post("/telegram/webhook", body=json.dumps(update), headers={
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": _env["TELEGRAM_WEBHOOK_SECRET"]})
    if kind == "payment":
        raw = json.dumps(payload["transfer"] | {"block_timestamp": int(time.time() * 1000)})
        return _client.http.post("/webhooks/payments/trc20", body=raw, headers={
            "Content-Type": "application/json",
            "X-Signature": sign_payload(_env["PAYMENT_WEBHOOK_SECRET"], now, raw.encode())})
    init_data = build_init_data(_env["TELEGRAM_BOT_TOKEN"], {"id": payload["user_id"], "first_name": "Load",
                                                             "language_code": "en"}, now)
    headers = {"X-Telegram-Init-Data": init_data, "Content-Type": "application/json"}
    if kind == "order":
        return _client.http.post("/orders", headers=headers, body=json.dumps({"product_id": "premium_3m"}))
    return _client.http.post("/redeem", headers=headers, body=json.dumps({"code": payload["code"]}))
