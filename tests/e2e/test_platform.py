"""Health, the error contract, and that no secret reaches a log line."""
from __future__ import annotations

import io
import json
import logging

import pytest

from chalicelib.observability import logger
from tests.support import BOT_TOKEN, PAYMENT_SECRET, TEST_ENV


def test_health_reports_the_table_and_queue_checks(api):
    response = api.client.http.get("/health")
    assert response.status_code == 200
    assert json.loads(response.body) == {"status": "ok", "version": "0.1.0",
                                         "checks": {"dynamodb": "ok", "queues": "ok"}}
    assert response.headers["X-Request-Id"]


def test_health_is_503_when_a_table_cannot_be_reached(api, aws):
    aws["dynamodb"].delete_table(TableName="tgshop-test-settings")
    response = api.client.http.get("/health")
    assert response.status_code == 503
    assert json.loads(response.body)["checks"]["dynamodb"] == "unreachable"


def test_health_is_503_when_a_work_queue_cannot_be_reached(api, aws):
    aws["sqs"].delete_queue(QueueUrl=aws["queues"]["tgshop-test-fulfillment"])
    response = api.client.http.get("/health")
    assert response.status_code == 503
    assert json.loads(response.body)["checks"] == {"dynamodb": "ok", "queues": "unreachable"}


@pytest.fixture
def log_lines():
    """What the service logger writes, as it writes it."""
    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_an_unexpected_error_is_a_500_with_the_request_id_and_no_traceback(api, container, monkeypatch,
                                                                           log_lines):
    def explode():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(container.premium, "offers", explode)
    response = api.client.http.get("/catalog", headers={"X-Request-Id": "req-123"})
    assert response.status_code == 500
    error = json.loads(response.body)["error"]
    assert error == {"code": "INTERNAL_ERROR", "message": "an unexpected error occurred", "request_id": "req-123"}
    assert b"Traceback" not in response.body and b"secret internals" not in response.body
    logged = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    failure = next(line for line in logged if line["message"] == "unhandled error")
    assert "Traceback" in failure["exception"] and failure["correlation_id"] == "req-123"


def test_no_secret_reaches_a_log_line(api, container, log_lines, caplog):
    secrets = [BOT_TOKEN, PAYMENT_SECRET, TEST_ENV["TELEGRAM_WEBHOOK_SECRET"], TEST_ENV["ADMIN_API_KEY"],
               TEST_ENV["CODE_SECRET_KEY"], "Bearer dist-token-value", "sig-value-123"]
    headers = {"Authorization": "Bearer dist-token-value", "X-Api-Key": TEST_ENV["ADMIN_API_KEY"],
               "X-Telegram-Bot-Api-Secret-Token": TEST_ENV["TELEGRAM_WEBHOOK_SECRET"],
               "X-Signature": "t=1,v1=sig-value-123", "X-Custom-Secret-Header": "hidden-value-9"}
    logger.info("incoming", extra={"headers": headers, "note": f"token {BOT_TOKEN} secret {PAYMENT_SECRET}"})
    logger.info({"Authorization": "Basic dXNlcjpwYXNz", "x-payment-secret-key": "hidden-value-9"})
    logging.getLogger("httpx").warning("HTTP Request: POST http://sandbox/bot%s/sendMessage", BOT_TOKEN)
    order = json.loads(api.create_order().body)
    api.pay(order)
    api.drain("delivery", "deliver_orders")
    third_party = [record.getMessage() for record in caplog.records if record.name.startswith("httpx")]
    assert third_party
    output = log_lines.getvalue() + "\n".join(third_party)
    assert "incoming" in output
    for secret in [*secrets, "hidden-value-9", "dXNlcjpwYXNz", BOT_TOKEN.split(":")[1]]:
        assert secret not in output, secret


def test_each_telegram_update_and_sqs_message_is_its_own_correlation_id(api, log_lines):
    update = {"update_id": 777, "message": {"message_id": 1, "date": 1, "text": "/help",
                                            "chat": {"id": 5, "type": "private"},
                                            "from": {"id": 5, "is_bot": False, "first_name": "Ann"}}}
    response = api.client.http.post("/telegram/webhook", body=json.dumps(update), headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TEST_ENV["TELEGRAM_WEBHOOK_SECRET"]})
    assert response.status_code == 200
    order = json.loads(api.create_order().body)
    api.pay(order)
    api.drain("delivery", "deliver_orders")
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    handled = next(line for line in lines if line["message"] == "telegram update handled")
    assert handled["correlation_id"] == "update-777"
    worker_lines = [line for line in lines if line.get("invocation") == "sqs" and line.get("order_id")]
    assert worker_lines and all(line["correlation_id"] not in ("update-777", None) for line in worker_lines)
