"""The embedded AWS emulator (moto), made as atomic as DynamoDB.

DynamoDB applies each request to an item atomically: a conditional write that races another write
either wins or fails its condition. moto checks a condition and writes in separate Python steps, so
threads can interleave between them. Serializing every DynamoDB request restores DynamoDB's guarantee,
which our race tests and the local stack rely on. Other services (SQS long polls) stay concurrent.

Applied one at a time, a transaction also needs to back up only the items it names: moto deep-copies every
table a transaction names before applying it, so each transaction cost more than the last as tables grew (a
burst of redemptions, a long-running local stack).
"""
from __future__ import annotations

import copy
import threading
from types import SimpleNamespace
from typing import Any, Callable

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

_dynamodb_lock = threading.RLock()


def _is_dynamodb(target: str | None) -> bool:
    return bool(target) and target.startswith("DynamoDB")


class _SerializedDynamoDB:
    def __init__(self, app: Callable[..., Any]) -> None:
        self._app = app

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Any:
        if not _is_dynamodb(environ.get("HTTP_X_AMZ_TARGET")):
            return self._app(environ, start_response)
        with _dynamodb_lock:
            # Consume the response inside the lock: the write happens while it is produced.
            return list(self._app(environ, start_response))


class AtomicMotoServer(ThreadedMotoServer):
    """moto's threaded server with DynamoDB requests applied one at a time."""

    _startup_error: BaseException | None = None

    def _server_entry(self) -> None:
        app = _SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
        try:
            self._server = make_server(self._ip_address, self._port, app, True,
                                       request_handler=MotoRequestHandler)
        except BaseException as error:  # noqa: BLE001 - handed to start(), which would otherwise wait forever
            self._startup_error = error
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever()

    def start(self) -> None:
        """Start serving; a port that cannot be bound raises here instead of hanging."""
        back_up_only_touched_items()
        self._startup_error = None
        super().start()
        if self._startup_error is not None:
            self._thread.join()  # type: ignore[union-attr]
            raise self._startup_error

    def stop(self) -> None:
        super().stop()
        if self._server is not None:
            self._server.server_close()  # release the port at once


def serialize_in_process_dynamodb() -> None:
    """The same guarantee for moto's in-process mock (`mock_aws`), used by the tests."""
    from moto.core.botocore_stubber import BotocoreStubber

    if getattr(BotocoreStubber, "_tgshop_serialized", False):
        return
    original = BotocoreStubber.__call__

    def serialized(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        target = request.headers.get("X-Amz-Target")
        if isinstance(target, bytes):
            target = target.decode()
        if _is_dynamodb(target):
            with _dynamodb_lock:
                return original(self, event_name, request, **kwargs)
        return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = serialized  # type: ignore[method-assign]
    BotocoreStubber._tgshop_serialized = True  # type: ignore[attr-defined]
    back_up_only_touched_items()


def back_up_only_touched_items() -> None:
    """A transaction backs up the items it names instead of the tables they are in, and puts those back when it
    is cancelled or refused. Sound only while DynamoDB requests are applied one at a time (both emulators here):
    then no other item can change meanwhile, and the answers and the items afterwards are moto's own (the
    original stays reachable as `__wrapped__`)."""
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    backend = dynamodb_models.DynamoDBBackend
    if hasattr(backend.transact_write_items, "__wrapped__"):
        return
    original = backend.transact_write_items
    no_table_copies = SimpleNamespace(deepcopy=lambda value: value if isinstance(value, Table)
                                      else copy.deepcopy(value))

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            (kind, body), = entry.items()
            table = self.tables.get(body.get("TableName"))
            if table is None:
                continue
            key = body["Item"] if kind == "Put" else body.get("Key", {})
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        dynamodb_models.copy = no_table_copies
        try:
            original(self, transact_items)
        except BaseException:
            for table, hash_value, range_value, item in reversed(saved):
                _put_back(table, hash_value, range_value, item)
            raise
        finally:
            dynamodb_models.copy = copy

    transact_write_items.__wrapped__ = original  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items


def _put_back(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if table.range_key_attr:
        partition = table.items[hash_value]
        if item is None:
            partition.pop(range_value, None)
        else:
            partition[range_value] = item
        if not partition:
            del table.items[hash_value]
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item
