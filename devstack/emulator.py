"""The embedded AWS emulator (moto), made as atomic as DynamoDB.

DynamoDB applies each request to an item atomically: a conditional write that races another write
either wins or fails its condition. moto checks a condition and writes in separate Python steps, so
threads can interleave between them. Serializing every DynamoDB request restores DynamoDB's guarantee,
which our race tests and the local stack rely on. Other services (SQS long polls) stay concurrent.
"""
from __future__ import annotations

import threading
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
