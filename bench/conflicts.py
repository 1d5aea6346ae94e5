"""An emulator that refuses conflicting transactions the way DynamoDB does.

moto applies a TransactWriteItems at once and never answers `TransactionConflict`, so on it one hot item costs
nothing and a design that spreads writes over many items cannot show what it buys. DynamoDB holds every item
of a transaction until the transaction commits (its two-phase commit takes ~10-25 ms) and cancels another
transaction touching one of them meanwhile with the reason `TransactionConflict`. `ConflictingMotoServer` is
the repository's atomic moto server (DynamoDB requests applied one at a time) with that rule added: an
accepted transaction holds its items for `hold_seconds` after it was applied, outside the emulator's lock, and
a transaction naming a held item is cancelled with a per-item reason, as DynamoDB answers.
"""
from __future__ import annotations

import io
import json
import threading
import time
from typing import Any, Callable

from devstack.emulator import AtomicMotoServer, _SerializedDynamoDB

TRANSACT_TARGET = "DynamoDB_20120810.TransactWriteItems"


class _Conflicts:
    def __init__(self, app: Callable[..., Any], hold_seconds: float, key_names: dict[str, list[str]]) -> None:
        self._app = app
        self._hold = hold_seconds
        self._key_names = key_names
        self._held: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.conflicts = 0
        self.transactions = 0

    def _identity(self, entry: dict) -> tuple[str, str]:
        (kind, body), = entry.items()
        key = body.get("Key") if kind != "Put" else {name: body["Item"][name]
                                                       for name in self._key_names[body["TableName"]]}
        return body["TableName"], json.dumps(key, sort_keys=True)

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET") != TRANSACT_TARGET:
            return self._app(environ, start_response)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        items = [self._identity(entry) for entry in json.loads(raw)["TransactItems"]]
        with self._lock:
            self.transactions += 1
            clashing = [item in self._held for item in items]
            if any(clashing):
                self.conflicts += 1
                return _cancelled(start_response, clashing)
            self._held.update(items)
        try:
            answer = self._app(environ, start_response)
            time.sleep(self._hold)     # the commit phase: the items stay held, other work goes on
            return answer
        finally:
            with self._lock:
                self._held.difference_update(items)


def _cancelled(start_response: Callable[..., Any], clashing: list[bool]) -> list[bytes]:
    reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} if clash
               else {"Code": "None"} for clash in clashing]
    body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                       "message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                                  "[" + ", ".join(reason["Code"] for reason in reasons) + "]",
                       "CancellationReasons": reasons}).encode()
    start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                       ("Content-Length", str(len(body)))])
    return [body]


class ConflictingMotoServer(AtomicMotoServer):
    """The atomic moto server; `conflicts.configure(hold, key_names)` once the tables exist turns the rule on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conflicts: _Conflicts | None = None

    def _server_entry(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        serialized = _SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
        self.conflicts = _Conflicts(serialized, 0.0, {})
        try:
            self._server = make_server(self._ip_address, self._port, self.conflicts, True,
                                       request_handler=MotoRequestHandler)
        except BaseException as error:  # noqa: BLE001 - handed to start(), as in the parent
            self._startup_error = error
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever()

    def hold_transactions(self, hold_seconds: float, key_names: dict[str, list[str]]) -> None:
        assert self.conflicts is not None
        self.conflicts._hold = hold_seconds
        self.conflicts._key_names = key_names
