"""The fuzz suite's fixtures: a recorder of every write the app makes to DynamoDB or SQS."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems",
                              "SendMessage", "SendMessageBatch"})
DELETES = ("DeleteItem", "Delete")


@dataclass(frozen=True)
class Write:
    operation: str
    table: str                                  # the table (or queue URL) written
    values: dict[str, Any] = field(default_factory=dict, compare=False)  # the item's (or key's) attributes

    def __str__(self) -> str:
        shown = "/".join(f"{name}={value}" for name, value in self.values.items())[:160]
        return f"{self.operation} {self.table} {shown}"


def _values(attributes: Any) -> dict[str, Any]:
    if not isinstance(attributes, dict):
        return {}
    return {name: next(iter(value.values())) for name, value in attributes.items() if isinstance(value, dict)}


def writes_of(operation: str, params: dict[str, Any]) -> list[Write]:
    if operation in ("SendMessage", "SendMessageBatch"):
        return [Write(operation, params.get("QueueUrl", ""))]
    if operation == "TransactWriteItems":
        return [Write(kind, body.get("TableName", ""), _values(body.get("Key") or body.get("Item")))
                for action in params.get("TransactItems", []) for kind, body in action.items()
                if kind != "ConditionCheck"]
    if operation == "BatchWriteItem":
        return [Write(operation, table) for table in params.get("RequestItems", {})]
    return [Write(operation, params.get("TableName", ""), _values(params.get("Key") or params.get("Item")))]


def net(writes: list[Write]) -> list[Write]:
    """What is left behind: an item written and then deleted in the same request (Powertools idempotency puts
    an in-progress record and deletes it when the work raises) left nothing."""
    left: list[Write] = []
    for write in writes:
        if write.operation in DELETES:
            undone = [earlier for earlier in left if earlier.table == write.table and write.values
                      and all(earlier.values.get(name) == value for name, value in write.values.items())]
            if undone:
                left = [earlier for earlier in left if not any(earlier is gone for gone in undone)]
                continue
        left.append(write)
    return left


class WriteRecorder:
    """Every DynamoDB and SQS write the code under test made, in order (a write whose condition failed made
    none); `take()` returns what is left behind since the last call and forgets it."""

    def __init__(self) -> None:
        self.writes: list[Write] = []

    def take(self) -> list[Write]:
        taken, self.writes = self.writes, []
        return net(taken)


@pytest.fixture
def writes(monkeypatch) -> WriteRecorder:
    from botocore.client import BaseClient

    recorder = WriteRecorder()
    original = BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        answer = original(client, operation_name, api_params)  # a refused condition raises: nothing was written
        if operation_name in WRITE_OPERATIONS:
            recorder.writes.extend(writes_of(operation_name, api_params))
        return answer

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return recorder
