"""A DynamoDB transaction whose writes have names, so a cancellation says which condition failed.

DynamoDB reports cancellation reasons by position, and pynamodb sends puts before updates whatever order
they were added in; naming each write keeps callers from counting positions."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.models import connection


class NamedTransaction:
    def __init__(self) -> None:
        self._puts: list[tuple[str, Model, Any]] = []
        self._updates: list[tuple[str, Model, list, Any]] = []

    def put(self, name: str, item: Model, condition: Any = None) -> None:
        self._puts.append((name, item, condition))

    def update(self, name: str, item: Model, actions: list, condition: Any = None) -> None:
        self._updates.append((name, item, actions, condition))

    def commit(self) -> set[str]:
        """The names of the writes whose condition failed (empty: committed). Other errors raise."""
        try:
            with TransactWrite(connection=connection()) as transaction:
                for _, item, condition in self._puts:
                    transaction.save(item, condition=condition)
                for _, item, actions, condition in self._updates:
                    transaction.update(item, actions=actions, condition=condition)
        except TransactWriteError as error:
            names = [name for name, *_ in self._puts] + [name for name, *_ in self._updates]
            reasons = [reason.code if reason else None for reason in error.cancellation_reasons]
            failed = {name for name, reason in zip(names, reasons) if reason == "ConditionalCheckFailed"}
            if failed and all(reason in (None, "None", "ConditionalCheckFailed") for reason in reasons):
                return failed
            raise
        return set()
