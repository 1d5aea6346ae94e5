"""How many messages wait in each dead-letter queue ("<prefix>-<queue>-dlq", infra/resources.yaml)."""
from __future__ import annotations

from chalicelib.adapters.sqs import SqsQueues


class SqsDeadLetters:
    def __init__(self, queues: SqsQueues, names: tuple[str, ...]) -> None:
        self._queues = queues
        self._names = names

    def depths(self) -> dict[str, int]:
        depths = {}
        for name in self._names:
            attributes = self._queues.client().get_queue_attributes(
                QueueUrl=self._queues.url(name), AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
            depths[name] = int(attributes.get("ApproximateNumberOfMessages", 0))
        return depths
