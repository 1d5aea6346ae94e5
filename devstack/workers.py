"""SQS workers: what Lambda's SQS event source mapping does, against the emulator's queues.

Each worker long-polls one queue, hands the batch to the function as a real SQS event, and deletes only
the records that succeeded: with ReportBatchItemFailures, the ones not listed in `batchItemFailures`;
none at all if the function raised or named a record that was not in the batch. A failed record stays
in the queue, comes back after the queue's visibility timeout, and the emulator moves it to the
dead-letter queue once its receive count reaches the redrive policy's maxReceiveCount (moto implements
redrive on receive, as SQS does).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from devstack.lambdas import Handler, LambdaContext, sqs_event

log = logging.getLogger("devstack.workers")

MAX_RECEIVE = 10  # SQS returns at most 10 messages per ReceiveMessage


@dataclass
class BatchOutcome:
    received: int = 0
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str | None = None


def failed_ids(result: Any, message_ids: list[str]) -> set[str]:
    """Which records Lambda would keep, given the function's response.

    A missing or empty response means every record succeeded. An identifier that is empty or not in
    the batch makes Lambda treat the whole batch as failed.
    """
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    batch = set(message_ids)
    kept: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch:
            return batch
        kept.add(identifier)
    return kept


class SqsWorker(threading.Thread):
    """Polls one queue and invokes one handler until `stop` is set."""

    def __init__(self, sqs: Any, queue_url: str, handler: Handler, *, function_name: str,
                 batch_size: int = 10, wait_seconds: int = 1, timeout_seconds: float = 60.0,
                 memory_mb: int = 128, stop: threading.Event | None = None,
                 invoke_lock: Any = None, on_batch: Callable[[BatchOutcome], None] | None = None) -> None:
        super().__init__(name=f"sqs-worker-{function_name}", daemon=True)
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.function_name = function_name
        self.batch_size = max(1, min(batch_size, MAX_RECEIVE))
        self.wait_seconds = wait_seconds
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        self.stop_event = stop or threading.Event()
        self.invoke_lock = invoke_lock or threading.Lock()
        self.on_batch = on_batch
        self._queue_arn: str | None = None

    @property
    def queue_arn(self) -> str:
        if self._queue_arn is None:
            attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
            self._queue_arn = attributes["Attributes"]["QueueArn"]
        return self._queue_arn

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the emulator may be going away; keep the thread alive
                if self.stop_event.is_set():
                    return
                log.exception("polling %s failed; retrying", self.queue_url)
                self.stop_event.wait(1.0)

    def poll_once(self) -> BatchOutcome:
        """One receive -> invoke -> delete cycle."""
        response = self.sqs.receive_message(QueueUrl=self.queue_url, AttributeNames=["All"],
                                            MessageAttributeNames=["All"],
                                            MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.wait_seconds)
        messages = response.get("Messages", [])
        outcome = BatchOutcome(received=len(messages))
        if not messages:
            return outcome
        message_ids = [message["MessageId"] for message in messages]
        event = sqs_event(messages, self.queue_arn)
        context = LambdaContext(self.function_name, self.timeout_seconds, self.memory_mb)
        try:
            with self.invoke_lock:
                result = self.handler(event, context)
            kept = failed_ids(result, message_ids)
        except Exception as error:  # noqa: BLE001 - Lambda returns the whole batch to the queue
            log.exception("%s raised; all %d records stay in the queue", self.function_name, len(messages))
            outcome.error = f"{type(error).__name__}: {error}"
            kept = set(message_ids)
        done = [message for message in messages if message["MessageId"] not in kept]
        for start in range(0, len(done), MAX_RECEIVE):
            chunk = done[start:start + MAX_RECEIVE]
            response = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(chunk)])
            for failure in response.get("Failed", []):
                log.warning("%s: could not delete a processed record (%s); it will be delivered again",
                            self.function_name, failure.get("Message") or failure.get("Code"))
        outcome.deleted = [message["MessageId"] for message in done]
        outcome.failed = [message_id for message_id in message_ids if message_id in kept]
        if outcome.failed:
            log.warning("%s: %d of %d records failed; they return after the visibility timeout",
                        self.function_name, len(outcome.failed), len(messages))
        if self.on_batch:
            self.on_batch(outcome)
        return outcome


def drain_queue(sqs: Any, queue_url: str, queue_arn: str, invoke: Callable[[dict], Any]) -> int:
    """Hand every waiting message to `invoke(event)` now, ten at a time, deleting only the records the
    handler did not report failed; stops after the first batch with a failure (it would come back).
    Tests and benchmarks use it to run a queue's handler on demand."""
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return handled
        failed = failed_ids(invoke(sqs_event(messages, queue_arn)), [m["MessageId"] for m in messages])
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(messages)
        if failed:
            return handled
