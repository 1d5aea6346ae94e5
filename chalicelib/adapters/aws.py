"""One botocore session per process: every AWS client, boto3's and pynamodb's, is built from it.

A Lambda process holds one container; a process that builds many (the tests, the local stack) keeps the session
and its clients, one per service, region and endpoint, since a client holds nothing of a container's.

A botocore session loads the endpoint rules and each service's model from disk once; pynamodb would otherwise
build a session (and a client) per model and per thread, boto3 another for its default session, and each of
those loads costs a cold container tens of milliseconds before its first call."""
from __future__ import annotations

import threading
from typing import Any

_lock = threading.RLock()   # botocore's session and client creation are not thread-safe
_session: Any = None
_clients: dict[tuple[str, str, str | None], Any] = {}


def botocore_session() -> Any:
    global _session
    with _lock:
        if _session is None:
            import botocore.session

            _session = botocore.session.get_session()
        return _session


def client(service: str, region: str, endpoint_url: str | None) -> Any:
    """The container's one client of `service` for this region and endpoint."""
    key = (service, region, endpoint_url)
    with _lock:
        if key not in _clients:
            _clients[key] = botocore_session().create_client(service, region_name=region, endpoint_url=endpoint_url)
        return _clients[key]


def create_client(service: str, **kwargs: Any) -> Any:
    """A client of its own from the shared session (pynamodb's, with its own configuration)."""
    with _lock:
        return botocore_session().create_client(service, **kwargs)
