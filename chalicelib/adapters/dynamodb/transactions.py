"""A DynamoDB transaction whose writes have names, so a cancellation says which condition failed.

DynamoDB reports cancellation reasons by position, and pynamodb sends puts before updates whatever order
they were added in; naming each write keeps callers from counting positions. A transaction cancelled only
because another one was writing the same item (TransactionConflict: a busy wallet or shard) is sent again
after a short jittered pause; its own conditions make a second try write nothing twice."""
from __future__ import annotations

import random
import time
from typing import Any, Callable

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.models import connection
from chalicelib.domain.shared import backoff_seconds

CONFLICT_TRIES = 4
_rng = random.Random()


class NamedTransaction:
    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self._puts: list[tuple[str, Model, Any]] = []
        self._updates: list[tuple[str, Model, list, Any]] = []

    def put(self, name: str, item: Model, condition: Any = None) -> None:
        self._puts.append((name, item, condition))

    def update(self, name: str, item: Model, actions: list, condition: Any = None) -> None:
        self._updates.append((name, item, actions, condition))

    def commit(self) -> set[str]:
        """The names of the writes whose condition failed (empty: committed). Other errors raise."""
        attempt = 0
        while True:
            try:
                self._send()
                return set()
            except TransactWriteError as error:
                reasons = [reason.code if reason else None for reason in error.cancellation_reasons]
                names = [name for name, *_ in self._puts] + [name for name, *_ in self._updates]
                failed = {name for name, reason in zip(names, reasons) if reason == "ConditionalCheckFailed"}
                if failed:
                    return failed
                attempt += 1
                if "TransactionConflict" not in reasons or attempt >= CONFLICT_TRIES:
                    raise
                self._sleep(backoff_seconds(attempt, _rng, base=0.02))

    def _send(self) -> None:
        with TransactWrite(connection=connection()) as transaction:
            for _, item, condition in self._puts:
                transaction.save(item, condition=condition)
            for _, item, actions, condition in self._updates:
                transaction.update(item, actions=actions, condition=condition)
