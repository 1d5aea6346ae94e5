"""Work queues on SQS. Queue URLs are looked up once per container from their names."""
from __future__ import annotations

import json
from typing import Any

# Logical queue names; the deployed name is "<resource prefix>-<name>" (infra/resources.yaml).
DELIVERY_QUEUE = "delivery"
FULFILLMENT_QUEUE = "fulfillment"


class SqsWorkQueue:
    def __init__(self, client_factory: Any, prefix: str) -> None:
        self._client_factory = client_factory
        self._prefix = prefix
        self._client: Any = None
        self._urls: dict[str, str] = {}

    def _sqs(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def url(self, queue: str) -> str:
        if queue not in self._urls:
            self._urls[queue] = self._sqs().get_queue_url(QueueName=f"{self._prefix}-{queue}")["QueueUrl"]
        return self._urls[queue]

    def send(self, queue: str, body: dict) -> None:
        self._sqs().send_message(QueueUrl=self.url(queue), MessageBody=json.dumps(body, separators=(",", ":")))
