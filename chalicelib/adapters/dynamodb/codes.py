"""Redeem codes, redemptions and distributor counters in DynamoDB.

These speak the low-level API (the botocore client of the models' connection) because the hot paths are
batch writes of plain items and transactions whose counter attributes have computed names
(`live#<expiry day>`). Every change of a code's uses or state is one TransactWriteItems with a condition
naming what was read, together with the counters it moves, so the figures stay exact without scans.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamodb import models
from chalicelib.domain.shared import decode_cursor, encode_cursor
from chalicelib.domain.ports.common import WriteResult
from chalicelib.domain.codes import (CodeState, CounterSet, RedeemCode, Redemption, RedemptionStatus, Tally)
from chalicelib.domain.ports.common import Page

WRITE_BATCH = 25          # BatchWriteItem's limit
READ_BATCH = 100          # BatchGetItem's limit
MAX_BATCH_ATTEMPTS = 10   # a batch's unprocessed items are sent again at most this many times
BUSY = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                  "TransactionConflictException", "ProvisionedThroughputExceededException", "ThrottlingException",
                  "RequestLimitExceeded", "TransactionInProgressException"})
LIVE_PREFIX = "live#"
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


def code_item(code: RedeemCode) -> dict[str, dict]:
    return {"code": _s(code.code), "order_id": _s(code.order_id), "seq": _n(code.seq),
            "distributor_id": _s(code.distributor_id), "product_id": _s(code.product_id),
            "month_count": _n(code.month_count), "max_uses": _n(code.max_uses), "used_count": _n(code.used_count),
            "state": _s(code.state.value), "expires_at": _n(_epoch(code.expires_at)),
            "created_at": _n(_epoch(code.created_at))}


def code_from_item(item: dict[str, dict]) -> RedeemCode:
    return RedeemCode(code=item["code"]["S"], order_id=item["order_id"]["S"], seq=int(item["seq"]["N"]),
                      distributor_id=item["distributor_id"]["S"], product_id=item["product_id"]["S"],
                      month_count=int(item["month_count"]["N"]), max_uses=int(item["max_uses"]["N"]),
                      used_count=int(item["used_count"]["N"]), state=CodeState(item["state"]["S"]),
                      expires_at=_utc(item["expires_at"]["N"]), created_at=_utc(item["created_at"]["N"]))


def _time(moment: datetime) -> str:
    return models.RedemptionItem.redeemed_at.serialize(moment)


def redemption_item(redemption: Redemption) -> dict[str, dict]:
    item = {"redemption_id": _s(redemption.redemption_id), "code": _s(redemption.code),
            "user_id": _n(redemption.user_id), "distributor_id": _s(redemption.distributor_id),
            "code_order_id": _s(redemption.code_order_id), "product_id": _s(redemption.product_id),
            "month_count": _n(redemption.month_count), "status": _s(redemption.status.value),
            "redeemed_at": _s(_time(redemption.redeemed_at)), "updated_at": _s(_time(redemption.updated_at)),
            "retail_micros": _n(redemption.retail_micros), "gift_order_id": _s(redemption.gift_order_id)}
    if redemption.failure_reason:
        item["failure_reason"] = _s(redemption.failure_reason)
    return item


def redemption_from_item(item: dict[str, dict]) -> Redemption:
    parse = models.RedemptionItem.redeemed_at.deserialize
    return Redemption(redemption_id=item["redemption_id"]["S"], code=item["code"]["S"],
                      user_id=int(item["user_id"]["N"]), distributor_id=item["distributor_id"]["S"],
                      code_order_id=item["code_order_id"]["S"], product_id=item["product_id"]["S"],
                      month_count=int(item["month_count"]["N"]), status=RedemptionStatus(item["status"]["S"]),
                      redeemed_at=parse(item["redeemed_at"]["S"]), updated_at=parse(item["updated_at"]["S"]),
                      retail_micros=int(item["retail_micros"]["N"]), gift_order_id=item["gift_order_id"]["S"],
                      failure_reason=item.get("failure_reason", {}).get("S"))


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
        self._sleep(self._rng.uniform(0, min(5.0, 0.05 * 2 ** attempt)))

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

    # ------------------------------------------------------------------ counters
    def _tally_updates(self, tally: Tally, marker: str | None = None) -> list[dict]:
        """ADD actions on the day item and the total item of the tally's shard (zeros left out)."""
        table = models.DistributorStatItem.Meta.table_name
        counts = [(name, value) for name, value in sorted(tally.counts.items()) if value]
        live = [(f"{LIVE_PREFIX}{day}", value) for day, value in sorted(tally.live.items()) if value]
        updates = []
        for period, pairs in ((f"day#{tally.day}#{tally.shard}", counts), (f"total#{tally.shard}", counts + live)):
            names = {f"#a{index}": name for index, (name, _) in enumerate(pairs)}
            values = {f":a{index}": _n(value) for index, (_, value) in enumerate(pairs)}
            actions = [f"#a{index} :a{index}" for index in range(len(pairs))]
            update: dict[str, Any] = {"TableName": table,
                                      "Key": {"distributor_id": _s(tally.distributor_id), "period": _s(period)}}
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


class DynamoCodeStore(_LowLevel):
    # ------------------------------------------------------------------ reads
    def _batch_get(self, codes: Sequence[str], projection: str | None) -> list[dict]:
        table = models.CodeItem.Meta.table_name
        found: list[dict] = []
        for start in range(0, len(codes), READ_BATCH):
            request: dict[str, Any] = {"Keys": [{"code": _s(code)} for code in codes[start:start + READ_BATCH]],
                                       "ConsistentRead": True}
            if projection:
                request.update(ProjectionExpression=projection,
                               ExpressionAttributeNames={"#code": "code", "#order": "order_id", "#seq": "seq"})
            pending = {table: request}
            for attempt in range(MAX_BATCH_ATTEMPTS):
                response = self.client.batch_get_item(RequestItems=pending)
                found.extend(response.get("Responses", {}).get(table, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                self._backoff(attempt)
            else:
                raise UnprocessedItemsLeft(f"{len(pending[table]['Keys'])} keys still unprocessed")
        return found

    def get(self, code: str) -> RedeemCode | None:
        response = self.client.get_item(TableName=models.CodeItem.Meta.table_name, Key={"code": _s(code)},
                                        ConsistentRead=True)
        return code_from_item(response["Item"]) if "Item" in response else None

    def get_many(self, codes: Sequence[str]) -> dict[str, RedeemCode]:
        return {item["code"]["S"]: code_from_item(item) for item in self._batch_get(list(codes), None)}

    def owners(self, codes: Sequence[str]) -> dict[str, tuple[str, int]]:
        return {item["code"]["S"]: (item["order_id"]["S"], int(item["seq"]["N"]))
                for item in self._batch_get(list(codes), "#code, #order, #seq")}

    # ------------------------------------------------------------------ writes
    def put_new(self, codes: Sequence[RedeemCode]) -> None:
        table = models.CodeItem.Meta.table_name
        for start in range(0, len(codes), WRITE_BATCH):
            pending = {table: [{"PutRequest": {"Item": code_item(code)}} for code in codes[start:start + WRITE_BATCH]]}
            for attempt in range(MAX_BATCH_ATTEMPTS):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                self._backoff(attempt)
            else:
                raise UnprocessedItemsLeft(f"{len(pending[table])} codes still unprocessed")

    def redeem(self, code: RedeemCode, redemption: Redemption, depletes: bool, tally: Tally,
               now: datetime) -> WriteResult:
        uses = "#used = :last" if depletes else "#used < :last"
        items = [
            {"Update": {"TableName": models.CodeItem.Meta.table_name, "Key": {"code": _s(code.code)},
                        "UpdateExpression": "SET #used = #used + :one",
                        "ConditionExpression": f"#state = :active AND #expires > :now AND {uses}",
                        "ExpressionAttributeNames": {"#used": "used_count", "#state": "state",
                                                     "#expires": "expires_at"},
                        "ExpressionAttributeValues": {":one": _n(1), ":active": _s(CodeState.ACTIVE.value),
                                                      ":now": _n(_epoch(now)), ":last": _n(code.max_uses - 1)}}},
            {"Put": {"TableName": models.RedemptionItem.Meta.table_name, "Item": redemption_item(redemption),
                     "ConditionExpression": "attribute_not_exists(#id)",
                     "ExpressionAttributeNames": {"#id": "redemption_id"}}},
            *self._tally_updates(tally),
        ]
        reasons = self._transact(items)
        if reasons is None:
            return WriteResult.APPLIED
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            return WriteResult.DUPLICATE
        if reasons[0] == "ConditionalCheckFailed":
            return WriteResult.CHANGED
        return self._busy_or_raise(reasons)

    def give_back(self, code: RedeemCode, redemption: Redemption, was_depleted: bool, reason: str,
                  tally: Tally, now: datetime) -> WriteResult:
        condition = ("#state = :active AND #used = :max" if was_depleted
                     else "#used > :zero AND (#used < :max OR #state = :inactive)")
        values = {":one": _n(1), ":max": _n(code.max_uses)}
        values.update({":active": _s(CodeState.ACTIVE.value)} if was_depleted
                      else {":zero": _n(0), ":inactive": _s(CodeState.INACTIVE.value)})
        items = [
            {"Update": {"TableName": models.CodeItem.Meta.table_name, "Key": {"code": _s(code.code)},
                        "UpdateExpression": "SET #used = #used - :one", "ConditionExpression": condition,
                        "ExpressionAttributeNames": {"#used": "used_count", "#state": "state"},
                        "ExpressionAttributeValues": values}},
            self._settle_update(redemption, RedemptionStatus.FAILED, reason, now),
            *self._tally_updates(tally),
        ]
        reasons = self._transact(items)
        if reasons is None:
            return WriteResult.APPLIED
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            return WriteResult.STALE
        if reasons[0] == "ConditionalCheckFailed":
            return WriteResult.CHANGED
        return self._busy_or_raise(reasons)

    def deactivate(self, code: RedeemCode, was_depleted: bool, tally: Tally, now: datetime) -> WriteResult:
        uses = "#used >= :max" if was_depleted else "#used < :max"
        items = [
            {"Update": {"TableName": models.CodeItem.Meta.table_name, "Key": {"code": _s(code.code)},
                        "UpdateExpression": "SET #state = :inactive",
                        "ConditionExpression": f"#state = :active AND {uses}",
                        "ExpressionAttributeNames": {"#used": "used_count", "#state": "state"},
                        "ExpressionAttributeValues": {":active": _s(CodeState.ACTIVE.value),
                                                      ":inactive": _s(CodeState.INACTIVE.value),
                                                      ":max": _n(code.max_uses)}}},
            *self._tally_updates(tally),
        ]
        reasons = self._transact(items)
        if reasons is None:
            return WriteResult.APPLIED
        if reasons[0] == "ConditionalCheckFailed":
            return WriteResult.CHANGED
        return self._busy_or_raise(reasons)

    def settle(self, redemption: Redemption, status: RedemptionStatus, reason: str | None, tally: Tally,
               now: datetime) -> WriteResult:
        reasons = self._transact([self._settle_update(redemption, status, reason, now),
                                  *self._tally_updates(tally)])
        if reasons is None:
            return WriteResult.APPLIED
        if reasons[0] == "ConditionalCheckFailed":
            return WriteResult.STALE
        return self._busy_or_raise(reasons)

    def _settle_update(self, redemption: Redemption, status: RedemptionStatus, reason: str | None,
                       now: datetime) -> dict:
        names = {"#status": "status", "#updated": "updated_at"}
        values = {":status": _s(status.value), ":updated": _s(_time(now)),
                  ":accepted": _s(RedemptionStatus.ACCEPTED.value)}
        expression = "SET #status = :status, #updated = :updated"
        if reason:
            names["#reason"] = "failure_reason"
            values[":reason"] = _s(reason)
            expression += ", #reason = :reason"
        return {"Update": {"TableName": models.RedemptionItem.Meta.table_name,
                           "Key": {"redemption_id": _s(redemption.redemption_id)}, "UpdateExpression": expression,
                           "ConditionExpression": "#status = :accepted", "ExpressionAttributeNames": names,
                           "ExpressionAttributeValues": values}}

    def add_tally(self, tally: Tally) -> None:
        updates = self._tally_updates(tally)
        if updates:
            self._transact_until_done(updates)

    def count_issued(self, order_id: str, tally: Tally) -> bool:
        reasons = self._transact_until_done(self._tally_updates(tally, marker=order_id))
        return reasons is None

    @staticmethod
    def _busy_or_raise(reasons: list[str]) -> WriteResult:
        if "Busy" in reasons:
            return WriteResult.BUSY
        raise RuntimeError(f"transaction cancelled: {reasons}")


class DynamoRedemptionStore(_LowLevel):
    def get(self, redemption_id: str) -> Redemption | None:
        response = self.client.get_item(TableName=models.RedemptionItem.Meta.table_name,
                                        Key={"redemption_id": _s(redemption_id)}, ConsistentRead=True)
        return redemption_from_item(response["Item"]) if "Item" in response else None

    def list_by_distributor(self, distributor_id: str, limit: int, cursor: str | None) -> Page:
        request: dict[str, Any] = {"TableName": models.RedemptionItem.Meta.table_name,
                                   "IndexName": models.DistributorRedeemedIndex.Meta.index_name,
                                   "KeyConditionExpression": "#d = :d", "ExpressionAttributeNames": {"#d": "distributor_id"},
                                   "ExpressionAttributeValues": {":d": _s(distributor_id)},
                                   "ScanIndexForward": False, "Limit": limit}
        start = decode_cursor(cursor)
        if start:
            request["ExclusiveStartKey"] = start
        response = self.client.query(**request)
        return Page([redemption_from_item(item) for item in response.get("Items", [])],
                    encode_cursor(response.get("LastEvaluatedKey")))


class DynamoFigureStore(_LowLevel):
    def _query(self, distributor_id: str, condition: str, values: dict) -> Iterable[dict]:
        request: dict[str, Any] = {"TableName": models.DistributorStatItem.Meta.table_name,
                                   "KeyConditionExpression": f"#d = :d AND {condition}",
                                   "ExpressionAttributeNames": {"#d": "distributor_id", "#p": "period"},
                                   "ExpressionAttributeValues": {":d": _s(distributor_id), **values},
                                   "ConsistentRead": True}
        while True:
            response = self.client.query(**request)
            yield from response.get("Items", [])
            if not response.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def totals(self, distributor_id: str) -> CounterSet:
        counts: dict[str, int] = {}
        live: dict[str, int] = {}
        for item in self._query(distributor_id, "begins_with(#p, :total)", {":total": _s("total#")}):
            for name, value in item.items():
                if "N" not in value:
                    continue
                if name.startswith(LIVE_PREFIX):
                    day = name[len(LIVE_PREFIX):]
                    live[day] = live.get(day, 0) + int(value["N"])
                else:
                    counts[name] = counts.get(name, 0) + int(value["N"])
        return CounterSet(counts, {day: count for day, count in live.items() if count})

    def days(self, distributor_id: str, first_day: str, last_day: str) -> dict[str, CounterSet]:
        summed: dict[str, dict[str, int]] = {}
        for item in self._query(distributor_id, "#p BETWEEN :first AND :last",
                                {":first": _s(f"day#{first_day}"), ":last": _s(f"day#{last_day}#~")}):
            day = item["period"]["S"].split("#")[1]
            counts = summed.setdefault(day, {})
            for name, value in item.items():
                if "N" in value:
                    counts[name] = counts.get(name, 0) + int(value["N"])
        return {day: CounterSet(counts) for day, counts in summed.items()}
