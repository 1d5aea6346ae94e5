"""Counts DynamoDB API calls, items written and items read while it is active.

    with DynamoCounter() as counter:
        ...                      # anything: pynamodb models, boto3 clients, Powertools idempotency
    counter.calls                # {"PutItem": 1, "TransactWriteItems": 1, ...}
    counter.total_calls, counter.items_written   # 2, 4
    counter.reset()

Hook point: two botocore event hooks per client, `before-parameter-build.dynamodb` (the API parameters, so
the items a write carries) and `after-call.dynamodb` / `after-call-error.dynamodb` (one per logical call,
after botocore's retries). Clients exist before the counter starts and come from several sessions, so the
counter patches `botocore.client.BaseClient._make_api_call`, the one method every client goes through, to
register the hooks on the calling client once; the last counter to exit restores it and unregisters them.

Semantics:
- `calls` / `total_calls`: every call, failed ones too (a failed conditional write still costs a write
  unit); `failed_calls` counts those.
- `items_written`: items of calls that succeeded (BatchWriteItem: minus UnprocessedItems).
- `items_read`: GetItem 1 when found, Query/Scan the ScannedCount, batch and transactional gets the items.
- `read_units_estimate`: from the returned items' sizes by DynamoDB's rules (4 KB units, half when
  eventually consistent, a Query page rounded once, a key that finds nothing the minimum unit); an
  emulator's ConsumedCapacity is a constant, so this is the figure to compare.
- `consumed_read_units` / `consumed_write_units`: the service's ConsumedCapacity, with `request_capacity=True`.
- `recorded`: with `record=True`, every call's (operation, API parameters), to replay them with boto3.
"""
from __future__ import annotations

import copy
import math
import threading
import weakref
from collections import Counter
from typing import Any

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_HOOK_PREFIX = "bench-dynamo-counter"
_BEFORE_EVENT = "before-parameter-build.dynamodb"
_AFTER_EVENT = "after-call.dynamodb"
_ERROR_EVENT = "after-call-error.dynamodb"
_CONTEXT_KEY = "bench_dynamo_counter"

_lock = threading.RLock()
_active: list["DynamoCounter"] = []
_hooked_clients: "weakref.WeakSet[Any]" = weakref.WeakSet()
_original_make_api_call: Any = None


# ---------------------------------------------------------------------------------------------- hooks
def _before_parameter_build(params: dict, model: Any, context: dict, **_: Any) -> None:
    with _lock:
        counters = list(_active)
    if not counters:
        return
    if any(counter.request_capacity for counter in counters) and "ReturnConsumedCapacity" not in params \
            and "ReturnConsumedCapacity" in getattr(model.input_shape, "members", {}):
        params["ReturnConsumedCapacity"] = "TOTAL"
    context[_CONTEXT_KEY] = {"writes": _items_in_request(model.name, params),
                             **_batch_get_request(model.name, params)}
    for counter in counters:
        if counter.record:
            counter._remember(model.name, params)


def _after_call(http_response: Any, parsed: dict, model: Any, context: dict, **_: Any) -> None:
    with _lock:
        counters = list(_active)
    if not counters:
        return
    request = context.get(_CONTEXT_KEY) or {}
    ok = getattr(http_response, "status_code", 500) < 300
    for counter in counters:
        counter._record(model.name, ok, request, parsed if ok else None)


def _after_call_error(context: dict, **kwargs: Any) -> None:
    with _lock:
        counters = list(_active)
    operation = _operation_from_event(kwargs.get("event_name", ""))
    for counter in counters:
        counter._record(operation, False, context.get(_CONTEXT_KEY) or {}, None)


def _operation_from_event(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1] if event_name.count(".") >= 2 else "Unknown"


def _ensure_hooked(client: Any) -> None:
    if client in _hooked_clients:
        return
    meta = getattr(client, "meta", None)
    if meta is None or getattr(meta.service_model, "service_name", None) != "dynamodb":
        return
    events = meta.events
    events.register(_BEFORE_EVENT, _before_parameter_build, unique_id=f"{_HOOK_PREFIX}-before")
    events.register(_AFTER_EVENT, _after_call, unique_id=f"{_HOOK_PREFIX}-after")
    events.register(_ERROR_EVENT, _after_call_error, unique_id=f"{_HOOK_PREFIX}-error")
    _hooked_clients.add(client)


def _patched_make_api_call(self: Any, operation_name: str, api_params: dict) -> Any:
    if _active:
        with _lock:
            _ensure_hooked(self)
    return _original_make_api_call(self, operation_name, api_params)


def _install() -> None:
    global _original_make_api_call
    from botocore.client import BaseClient

    if BaseClient._make_api_call is _patched_make_api_call:
        return
    _original_make_api_call = BaseClient._make_api_call
    BaseClient._make_api_call = _patched_make_api_call


def _uninstall() -> None:
    from botocore.client import BaseClient

    # Someone (an X-Ray patch) may have wrapped us meanwhile; then the patch stays, as a pass-through.
    if BaseClient._make_api_call is _patched_make_api_call:
        BaseClient._make_api_call = _original_make_api_call
    for client in list(_hooked_clients):
        for event, suffix in ((_BEFORE_EVENT, "before"), (_AFTER_EVENT, "after"), (_ERROR_EVENT, "error")):
            client.meta.events.unregister(event, unique_id=f"{_HOOK_PREFIX}-{suffix}")
    _hooked_clients.clear()


# ---------------------------------------------------------------------------------------------- sizes
def _items_in_request(operation: str, params: dict) -> int:
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return 1
    if operation == "TransactWriteItems":
        return len(params.get("TransactItems") or [])
    batches = (params.get("RequestItems") or {}).values() if operation == "BatchWriteItem" else ()
    return sum(len(requests) for requests in batches)


def _batch_get_request(operation: str, params: dict) -> dict:
    """Whether a read is strongly consistent and, for BatchGetItem, how many keys it asks for."""
    requests = list((params.get("RequestItems") or {}).values()) if operation == "BatchGetItem" else []
    return {"consistent": bool(params.get("ConsistentRead")) or any(r.get("ConsistentRead") for r in requests),
            "keys": sum(len(request.get("Keys") or []) for request in requests)}


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def attribute_size(value: dict) -> int:
    """Approximate stored size of one low-level attribute value, per the DynamoDB item size rules."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(part.encode()) for part in inner)
    if kind == "NS":
        return sum(_number_size(part) for part in inner)
    if kind == "BS":
        return sum(len(part) for part in inner)
    if kind == "L":
        return 3 + sum(1 + attribute_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + attribute_size(element) for name, element in inner.items())
    return 0


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def _read_units(total_bytes: int, consistent: bool) -> float:
    units = max(1, math.ceil(total_bytes / 4096))
    return units if consistent else units / 2


def _units_from(consumed: Any) -> float:
    entries = consumed if isinstance(consumed, list) else [consumed]
    return float(sum(entry.get("CapacityUnits", 0) or 0 for entry in entries if isinstance(entry, dict)))


# ---------------------------------------------------------------------------------------------- counter
class DynamoCounter:
    """Context manager counting DynamoDB calls made by every botocore client in this process."""

    def __init__(self, request_capacity: bool = False, record: bool = False) -> None:
        self.request_capacity = request_capacity
        self.record = record
        self._data_lock = threading.Lock()
        self.reset()

    # interface ----------------------------------------------------------------------------------
    def __enter__(self) -> "DynamoCounter":
        with _lock:
            if not _active:
                _install()
            _active.append(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        with _lock:
            if self in _active:
                _active.remove(self)
            if not _active:
                _uninstall()

    def reset(self) -> None:
        with self._data_lock:
            self.calls: dict[str, int] = Counter()
            self.failed: dict[str, int] = Counter()
            self.written_by_operation: dict[str, int] = Counter()
            self.items_written = 0
            self.items_read = 0
            self.read_units_estimate = 0.0
            self.consumed_read_units = 0.0
            self.consumed_write_units = 0.0
            self.recorded: list[tuple[str, dict]] = []

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def failed_calls(self) -> int:
        return sum(self.failed.values())

    def snapshot(self) -> dict[str, Any]:
        """A plain copy, handy for tables and for diffs between two moments."""
        with self._data_lock:
            return {"calls": dict(self.calls), "total_calls": sum(self.calls.values()),
                    "failed_calls": sum(self.failed.values()), "items_written": self.items_written,
                    "items_read": self.items_read, "read_units_estimate": self.read_units_estimate,
                    "consumed_read_units": self.consumed_read_units,
                    "consumed_write_units": self.consumed_write_units}

    def describe_calls(self) -> str:
        """'1 TransactWriteItems + 1 GetItem', most frequent first."""
        with self._data_lock:
            ordered = sorted(self.calls.items(), key=lambda item: (-item[1], item[0]))
        return " + ".join(f"{count} {operation}" for operation, count in ordered) or "none"

    # recording ----------------------------------------------------------------------------------
    def _remember(self, operation: str, params: dict) -> None:
        copied = copy.deepcopy(params)
        with self._data_lock:
            self.recorded.append((operation, copied))

    def _record(self, operation: str, ok: bool, request: dict, parsed: dict | None) -> None:
        with self._data_lock:
            self.calls[operation] += 1
            if not ok:
                self.failed[operation] += 1
                return
            parsed = parsed or {}
            written = request.get("writes", 0)
            if operation == "BatchWriteItem":
                written -= sum(len(requests) for requests in (parsed.get("UnprocessedItems") or {}).values())
            if written:
                self.items_written += written
                self.written_by_operation[operation] += written
            self._record_reads(operation, parsed, bool(request.get("consistent")), int(request.get("keys", 0)))
            consumed = parsed.get("ConsumedCapacity")
            if consumed:
                if operation in WRITE_OPERATIONS:
                    self.consumed_write_units += _units_from(consumed)
                else:
                    self.consumed_read_units += _units_from(consumed)

    def _record_reads(self, operation: str, parsed: dict, consistent: bool, keys: int) -> None:
        """A key read and not found still costs the minimum unit (DynamoDB bills the request, not the item)."""
        if operation == "GetItem":
            item = parsed.get("Item")
            if item:
                self.items_read += 1
            self.read_units_estimate += _read_units(item_size(item) if item else 0, consistent)
        elif operation in ("Query", "Scan"):
            items = parsed.get("Items") or []
            self.items_read += int(parsed.get("ScannedCount", len(items)))
            self.read_units_estimate += _read_units(sum(item_size(item) for item in items), consistent)
        elif operation == "BatchGetItem":
            returned = 0
            for items in (parsed.get("Responses") or {}).values():
                returned += len(items)
                self.items_read += len(items)
                self.read_units_estimate += sum(_read_units(item_size(item), consistent) for item in items)
            unprocessed = sum(len(request.get("Keys") or [])
                              for request in (parsed.get("UnprocessedKeys") or {}).values())
            self.read_units_estimate += max(0, keys - returned - unprocessed) * _read_units(0, consistent)
        elif operation == "TransactGetItems":
            for response in parsed.get("Responses") or []:
                if response.get("Item"):
                    self.items_read += 1
                    self.read_units_estimate += 2 * _read_units(item_size(response["Item"]), True)
