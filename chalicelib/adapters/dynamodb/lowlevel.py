"""The raw DynamoDB client base for redeem codes, redemptions and distributor counters.

Most adapters use the pynamodb models; these use the low-level API (the botocore client of the models'
connection) for two reasons. Fulfilment writes codes as plain items in BatchWriteItem calls, at a speed
model objects would only slow down. And every change of a code's uses or state is one TransactWriteItems,
with a condition naming what was read, together with the counters it moves; those counters have computed
attribute names (`live#<expiry day>`), which pynamodb's declared, typed attributes cannot express. That is
how the figures stay exact without scans.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError, HTTPClientError

from chalicelib.adapters.dynamodb import models
from chalicelib.domain.codes import Tally
from chalicelib.domain.ports.common import WriteResult

WRITE_BATCH = 25          # BatchWriteItem's limit
READ_BATCH = 100          # BatchGetItem's limit
MAX_BATCH_ATTEMPTS = 10   # a batch's unprocessed items are sent again at most this many times
BUSY = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                  "TransactionConflictException", "ProvisionedThroughputExceededException", "ThrottlingException",
                  "RequestLimitExceeded", "TransactionInProgressException"})
UNANSWERED = frozenset({"InternalServerError", "ServiceUnavailable"})
LIVE_PREFIX = "live#"
FIGURES_PARTITIONS = 4    # one distributor's counter items spread over this many partition keys (docs/codes.md)
COUNTED_ORDERS = "counted_orders"


class UnprocessedItemsLeft(Exception):
    """DynamoDB kept returning unprocessed items past the retry budget (the message is retried)."""


def _s(value: str) -> dict:
    return {"S": value}


def _n(value: int) -> dict:
    return {"N": str(value)}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _utc(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc)


def full_jitter_seconds(attempt: int, rng: random.Random, *, base: float = 0.05, cap: float = 5.0) -> float:
    """Exponential backoff with full jitter for throttled batches and busy transactions: a pause anywhere
    up to base * 2^attempt (50 ms, 100 ms, ...), capped."""
    return rng.uniform(0, min(cap, base * 2 ** attempt))


def may_have_applied(error: Exception) -> bool:
    """A request that got no answer: sent, then the connection timed out or closed, or DynamoDB answered with
    a server error. DynamoDB may have applied it (a transaction included) or not; only a read tells."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "") in UNANSWERED
    return isinstance(error, HTTPClientError)


def figures_partition(distributor_id: str, partition: int) -> str:
    """The partition key of one distributor's counter items: `<id>` for partition 0, where every item was before
    they were spread (so those items need no migration: reads sum every item found), `<id>#<n>` otherwise."""
    return distributor_id if partition == 0 else f"{distributor_id}#{partition}"


def _client() -> Any:
    return models.connection().client


class _LowLevel:
    def __init__(self, client_factory: Callable[[], Any] = _client, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        self._client_factory = client_factory
        self._sleep = sleep
        self._rng = rng or random.Random()

    @property
    def client(self) -> Any:
        return self._client_factory()

    def _backoff(self, attempt: int) -> None:
        """Exponential backoff with full jitter: up to 50 ms, 100 ms, ... capped at 5 s."""
        self._sleep(full_jitter_seconds(attempt, self._rng))

    def _send_batch(self, operation: str, request_items: dict, unprocessed: str) -> tuple[list[dict], dict]:
        """Call a batch operation (`batch_get_item`, `batch_write_item`), then again with what DynamoDB left
        unprocessed, backing off between rounds: the responses, and what was still unprocessed after
        MAX_BATCH_ATTEMPTS rounds (empty when everything went through)."""
        responses: list[dict] = []
        pending = request_items
        for attempt in range(MAX_BATCH_ATTEMPTS):
            response = getattr(self.client, operation)(RequestItems=pending)
            responses.append(response)
            pending = response.get(unprocessed) or {}
            if not pending:
                break
            self._backoff(attempt)
        return responses, pending

    def _transact(self, items: list[dict]) -> list[str] | None:
        """None when applied; else the cancellation reason per item ("Busy" for all when throttled)."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "TransactionCanceledException":
                reasons = [reason.get("Code") or "None" for reason in error.response.get("CancellationReasons", [])]
                return ["Busy" if reason in BUSY else reason for reason in reasons] or ["Busy"]
            if code in BUSY:
                return ["Busy"] * len(items)
            raise
        return None

    def _transact_until_done(self, items: list[dict]) -> list[str] | None:
        """For writes with no decision to make on a conflict (counter-only transactions)."""
        for attempt in range(MAX_BATCH_ATTEMPTS):
            reasons = self._transact(items)
            if reasons is None or "Busy" not in reasons:
                return reasons
            self._backoff(attempt)
        raise UnprocessedItemsLeft("transaction still conflicting after retries")

    @staticmethod
    def _busy_or_raise(reasons: list[str]) -> WriteResult:
        if "Busy" in reasons:
            return WriteResult.BUSY
        raise RuntimeError(f"transaction cancelled: {reasons}")

    # ------------------------------------------------------------------ counters
    def _tally_updates(self, tally: Tally, marker: str | None = None) -> list[dict]:
        """ADD actions on the day item and the total item of the tally's shard (zeros left out), in the shard's
        partition: a hot code's redemptions write to several partitions, not one distributor's one."""
        table = models.DistributorStatItem.Meta.table_name
        counts = [(name, value) for name, value in sorted(tally.counts.items()) if value]
        live = [(f"{LIVE_PREFIX}{day}", value) for day, value in sorted(tally.live.items()) if value]
        updates = []
        for period, pairs in ((f"day#{tally.day}#{tally.shard}", counts), (f"total#{tally.shard}", counts + live)):
            names = {f"#a{index}": name for index, (name, _) in enumerate(pairs)}
            values = {f":a{index}": _n(value) for index, (_, value) in enumerate(pairs)}
            actions = [f"#a{index} :a{index}" for index in range(len(pairs))]
            partition = figures_partition(tally.distributor_id, tally.shard % FIGURES_PARTITIONS)
            update: dict[str, Any] = {"TableName": table,
                                      "Key": {"distributor_id": _s(partition), "period": _s(period)}}
            if marker is not None and period.startswith("day#"):
                names["#counted"] = COUNTED_ORDERS
                values[":marker"] = {"SS": [marker]}
                values[":marker_value"] = _s(marker)
                actions.append("#counted :marker")
                update["ConditionExpression"] = "NOT contains(#counted, :marker_value)"
            if not actions:
                continue
            update.update(UpdateExpression="ADD " + ", ".join(actions), ExpressionAttributeNames=names,
                          ExpressionAttributeValues=values)
            updates.append({"Update": update})
        return updates
