"""Work queues on SQS. The order queue holds the kind -> queue map; URLs are looked up once per container."""
from __future__ import annotations

import json
from typing import Any, Callable

from chalicelib.observability import logger


class SqsQueues:
    """Logical queue names; the deployed name is "<resource prefix>-<name>" (infra/resources.yaml)."""

    def __init__(self, client_factory: Callable[[], Any], prefix: str) -> None:
        self._client_factory = client_factory
        self._prefix = prefix
        self._client: Any = None
        self._urls: dict[str, str] = {}

    def client(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def url(self, queue: str) -> str:
        if queue not in self._urls:
            self._urls[queue] = self.client().get_queue_url(QueueName=f"{self._prefix}-{queue}")["QueueUrl"]
        return self._urls[queue]

    def probe(self, queue: str) -> None:
        """Raises when the queue cannot be reached (for /health): one cheap attribute read."""
        self.client().get_queue_attributes(QueueUrl=self.url(queue), AttributeNames=["QueueArn"])

    def send(self, queue: str, body: dict) -> None:
        self.client().send_message(QueueUrl=self.url(queue), MessageBody=json.dumps(body, separators=(",", ":")))


class SqsOrderQueue:
    """Each product's paid orders go to the queue its declaration names; the message carries the kind so
    the worker dispatches without reading the order."""

    def __init__(self, queues: SqsQueues, queue_of: Callable[[str], str]) -> None:
        self._queues = queues
        self._queue_of = queue_of

    def enqueue(self, order_id: str, kind: str) -> None:
        try:
            self._queues.send(self._queue_of(kind), {"order_id": order_id, "kind": kind})
        except Exception:  # noqa: BLE001 - the order stays PAID; the repair job queues it again
            logger.exception("enqueue failed; the repair job will retry", extra={"order_id": order_id})
