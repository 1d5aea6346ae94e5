"""Invoking the Chalice app's event handlers in process the way Lambda would: the handlers it declares,
real event shapes, and a small Lambda context."""
from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # the emulator's account

Handler = Callable[[dict, Any], Any]


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: float = 60.0, memory_mb: int = 128) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(timezone.utc):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class SqsSource:
    """One `on_sqs_message` handler and the queue it consumes."""

    name: str
    queue_name: str
    batch_size: int
    handler: Handler


@dataclass(frozen=True)
class ScheduledJob:
    """One `schedule` handler and its EventBridge expression, e.g. "rate(5 minutes)"."""

    name: str
    expression: str
    handler: Handler


def sqs_sources(app: Any, prefix: str) -> list[SqsSource]:
    """Every SQS handler; a logical queue name like "delivery" is deployed as "<prefix>-delivery"."""
    from chalice.app import SQSEventConfig

    sources = []
    for config in app.event_sources:
        if not isinstance(config, SQSEventConfig):
            continue
        if config.queue_arn:
            queue_name = config.queue_arn.rsplit(":", 1)[-1]
        else:
            queue_name = f"{prefix}-{config.queue}"
        sources.append(SqsSource(config.name, queue_name, config.batch_size, app.handler_map[config.name]))
    return sources


def scheduled_jobs(app: Any) -> list[ScheduledJob]:
    from chalice.app import ScheduledEventConfig

    jobs = []
    for config in app.event_sources:
        if isinstance(config, ScheduledEventConfig):
            expression = config.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            jobs.append(ScheduledJob(config.name, text, app.handler_map[config.name]))
    return jobs


def function_settings(function_name: str) -> tuple[float, int]:
    """(timeout seconds, memory MB) from .chalice/config.json, as the deployed function gets them."""
    from devstack.localenv import function_config

    config = function_config(function_name)
    timeout = config.lambda_timeout or 60  # type: ignore[attr-defined]
    memory = config.lambda_memory_size or 128  # type: ignore[attr-defined]
    return float(timeout), int(memory)


def sqs_record(message: dict, queue_arn: str) -> dict:
    """An SQS ReceiveMessage result as Lambda's event source mapping hands it to the function."""
    attributes = {key: value for key, value in message.get("Attributes", {}).items()
                  if key not in ("QueueArn",)}
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {name: _message_attribute(value)
                              for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict) -> dict:
    converted: dict[str, Any] = {"dataType": value.get("DataType", "String"), "stringListValues": [],
                                 "binaryListValues": []}
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        binary = value["BinaryValue"]
        converted["binaryValue"] = base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary
    return converted


def sqs_event(messages: list[dict], queue_arn: str) -> dict:
    return {"Records": [sqs_record(message, queue_arn) for message in messages]}


def scheduled_event(rule_name: str, now: datetime | None = None) -> dict:
    """What EventBridge sends a scheduled rule's target."""
    now = now or datetime.now(timezone.utc)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }
