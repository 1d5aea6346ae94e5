"""Redeem codes in DynamoDB (raw client, see lowlevel.py): the code item shape, batch reads and writes at
fulfilment speed, and the transactions that change a code's uses or state together with the redemption and
the distributor counters they move."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Sequence

from chalicelib.adapters.dynamodb import models
from chalicelib.adapters.dynamodb.code_shards import (counted_uses, counter_key, deactivate_counters,
                                                      deactivation_condition, give_use_back, shard_fields, take_use)
from chalicelib.adapters.dynamodb.lowlevel import (READ_BATCH, WRITE_BATCH, UnprocessedItemsLeft, _epoch, _LowLevel,
                                                   _n, _s, _utc, may_have_applied)
from chalicelib.adapters.dynamodb.redemptions import redemption_item, settle_update
from chalicelib.domain.codes import CodeState, RedeemCode, Redemption, RedemptionStatus, Tally
from chalicelib.domain.ports.common import WriteResult


def code_item(code: RedeemCode) -> dict[str, dict]:
    item = {"code": _s(code.code), "order_id": _s(code.order_id), "seq": _n(code.seq),
            "distributor_id": _s(code.distributor_id), "product_id": _s(code.product_id),
            "month_count": _n(code.month_count), "max_uses": _n(code.max_uses), "used_count": _n(code.used_count),
            "state": _s(code.state.value), "expires_at": _n(_epoch(code.expires_at)),
            "created_at": _n(_epoch(code.created_at))}
    if code.use_shards:
        item["use_shards"] = _n(code.use_shards)
    return item


def code_from_item(item: dict[str, dict]) -> RedeemCode:
    fields = {"used_count": int(item["used_count"]["N"]), **shard_fields(item)}
    return RedeemCode(code=item["code"]["S"], order_id=item["order_id"]["S"], seq=int(item["seq"]["N"]),
                      distributor_id=item["distributor_id"]["S"], product_id=item["product_id"]["S"],
                      month_count=int(item["month_count"]["N"]), max_uses=int(item["max_uses"]["N"]),
                      state=CodeState(item["state"]["S"]), expires_at=_utc(item["expires_at"]["N"]),
                      created_at=_utc(item["created_at"]["N"]), **fields)


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
            responses, pending = self._send_batch("batch_get_item", {table: request}, "UnprocessedKeys")
            if pending:
                raise UnprocessedItemsLeft(f"{len(pending[table]['Keys'])} keys still unprocessed")
            for response in responses:
                found.extend(response.get("Responses", {}).get(table, []))
        return found

    def get(self, code: str) -> RedeemCode | None:
        response = self.client.get_item(TableName=models.CodeItem.Meta.table_name, Key={"code": _s(code)},
                                        ConsistentRead=True)
        return code_from_item(response["Item"]) if "Item" in response else None

    def get_many(self, codes: Sequence[str]) -> dict[str, RedeemCode]:
        """Hot codes' uses are summed from their counters (one more batch read, only when there are some)."""
        found = {item["code"]["S"]: code_from_item(item) for item in self._batch_get(list(codes), None)}
        hot = [code for code in found.values() if code.use_shards]
        if hot:
            keys = [counter_key(code.code, shard)["code"]["S"] for code in hot for shard in range(code.use_shards)]
            counters = {item["code"]["S"]: item for item in self._batch_get(keys, None)}
            found.update({code.code: replace(code, used_count=counted_uses(code, counters)) for code in hot})
        return found

    def owners(self, codes: Sequence[str]) -> dict[str, tuple[str, int]]:
        return {item["code"]["S"]: (item["order_id"]["S"], int(item["seq"]["N"]))
                for item in self._batch_get(list(codes), "#code, #order, #seq")}

    # ------------------------------------------------------------------ writes
    def put_new(self, codes: Sequence[RedeemCode]) -> None:
        table = models.CodeItem.Meta.table_name
        for start in range(0, len(codes), WRITE_BATCH):
            batch = {table: [{"PutRequest": {"Item": code_item(code)}} for code in codes[start:start + WRITE_BATCH]]}
            _, pending = self._send_batch("batch_write_item", batch, "UnprocessedItems")
            if pending:
                raise UnprocessedItemsLeft(f"{len(pending[table])} codes still unprocessed")

    def redeem(self, code: RedeemCode, redemption: Redemption, depletes: bool, tally: Tally,
               now: datetime) -> WriteResult:
        """A hot code: `redemption.use_shard` names the counter and `depletes` means its last use. UNKNOWN: the
        transaction got no answer and may have been applied (the redemption item tells)."""
        if code.use_shards and redemption.use_shard is not None:
            use = take_use(code, redemption.use_shard, depletes)
        else:
            uses = "#used = :last" if depletes else "#used < :last"
            use = [{"Update": {
                "TableName": models.CodeItem.Meta.table_name, "Key": {"code": _s(code.code)},
                "UpdateExpression": "SET #used = #used + :one",
                "ConditionExpression": f"#state = :active AND #expires > :now AND {uses}",
                "ExpressionAttributeNames": {"#used": "used_count", "#state": "state", "#expires": "expires_at"},
                "ExpressionAttributeValues": {":one": _n(1), ":active": _s(CodeState.ACTIVE.value),
                                              ":now": _n(_epoch(now)), ":last": _n(code.max_uses - 1)}}}]
        items = [
            use[0],
            {"Put": {"TableName": models.RedemptionItem.Meta.table_name, "Item": redemption_item(redemption),
                     "ConditionExpression": "attribute_not_exists(#id)",
                     "ExpressionAttributeNames": {"#id": "redemption_id"}}},
            *use[1:],
            *self._tally_updates(tally),
        ]
        try:
            reasons = self._transact(items)
        except Exception as error:
            if may_have_applied(error):
                return WriteResult.UNKNOWN
            raise
        if reasons is None:
            return WriteResult.APPLIED
        if reasons[1] == "ConditionalCheckFailed":
            return WriteResult.DUPLICATE
        if "ConditionalCheckFailed" in reasons:
            return WriteResult.CHANGED
        return self._busy_or_raise(reasons)

    def give_back(self, code: RedeemCode, redemption: Redemption, was_depleted: bool, reason: str,
                  tally: Tally, now: datetime) -> WriteResult:
        if code.use_shards and redemption.use_shard is not None:
            use = give_use_back(code, redemption.use_shard)
        else:
            condition = ("#state = :active AND #used = :max" if was_depleted
                         else "#used > :zero AND (#used < :max OR #state = :inactive)")
            values = {":one": _n(1), ":max": _n(code.max_uses)}
            values.update({":active": _s(CodeState.ACTIVE.value)} if was_depleted
                          else {":zero": _n(0), ":inactive": _s(CodeState.INACTIVE.value)})
            use = [{"Update": {"TableName": models.CodeItem.Meta.table_name, "Key": {"code": _s(code.code)},
                               "UpdateExpression": "SET #used = #used - :one", "ConditionExpression": condition,
                               "ExpressionAttributeNames": {"#used": "used_count", "#state": "state"},
                               "ExpressionAttributeValues": values}}]
        items = [use[0], settle_update(redemption, RedemptionStatus.FAILED, reason, now), *use[1:],
                 *self._tally_updates(tally)]
        reasons = self._transact(items)
        if reasons is None:
            return WriteResult.APPLIED
        if reasons[1] == "ConditionalCheckFailed":
            return WriteResult.STALE
        if "ConditionalCheckFailed" in reasons:
            return WriteResult.CHANGED
        return self._busy_or_raise(reasons)

    def deactivate(self, code: RedeemCode, was_depleted: bool, tally: Tally, now: datetime) -> WriteResult:
        names = {"#state": "state"}
        values = {":active": _s(CodeState.ACTIVE.value), ":inactive": _s(CodeState.INACTIVE.value)}
        if code.use_shards:
            uses, as_read = deactivation_condition(code)
            names["#depleted"] = "depleted_shards"
            values.update(as_read)
        else:
            uses = "#used >= :max" if was_depleted else "#used < :max"
            names["#used"] = "used_count"
            values[":max"] = _n(code.max_uses)
        items = [
            {"Update": {"TableName": models.CodeItem.Meta.table_name, "Key": {"code": _s(code.code)},
                        "UpdateExpression": "SET #state = :inactive",
                        "ConditionExpression": f"#state = :active AND {uses}",
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}},
            *deactivate_counters(code),
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
        reasons = self._transact([settle_update(redemption, status, reason, now), *self._tally_updates(tally)])
        if reasons is None:
            return WriteResult.APPLIED
        if reasons[0] == "ConditionalCheckFailed":
            return WriteResult.STALE
        return self._busy_or_raise(reasons)

    def add_tally(self, tally: Tally) -> None:
        updates = self._tally_updates(tally)
        if updates:
            self._transact_until_done(updates)

    def count_issued(self, order_id: str, tally: Tally) -> bool:
        reasons = self._transact_until_done(self._tally_updates(tally, marker=order_id))
        return reasons is None
