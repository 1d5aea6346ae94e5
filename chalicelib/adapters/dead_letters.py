"""How many messages wait in each dead-letter queue ("<prefix>-<queue>-dlq", infra/resources.yaml)."""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.adapters.sqs import DELIVERY_QUEUE, FULFILLMENT_QUEUE

DEAD_LETTER_QUEUES = tuple(f"{queue}-dlq" for queue in (DELIVERY_QUEUE, FULFILLMENT_QUEUE))


class SqsDeadLetters:
    def __init__(self, client_factory: Callable[[], Any], prefix: str,
                 queues: tuple[str, ...] = DEAD_LETTER_QUEUES) -> None:
        self._client_factory = client_factory
        self._prefix = prefix
        self._queues = queues
        self._urls: dict[str, str] = {}

    def depths(self) -> dict[str, int]:
        sqs = self._client_factory()
        depths = {}
        for queue in self._queues:
            if queue not in self._urls:
                self._urls[queue] = sqs.get_queue_url(QueueName=f"{self._prefix}-{queue}")["QueueUrl"]
            attributes = sqs.get_queue_attributes(QueueUrl=self._urls[queue],
                                                  AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
            depths[queue] = int(attributes.get("ApproximateNumberOfMessages", 0))
        return depths
