"""Redeem codes in DynamoDB (raw client, see lowlevel.py): the code item shape, batch reads and writes at
fulfilment speed, and the transactions that change a code's uses or state together with the redemption and
the distributor counters they move."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from chalicelib.adapters.dynamodb import models
from chalicelib.adapters.dynamodb.lowlevel import (READ_BATCH, WRITE_BATCH, UnprocessedItemsLeft, _epoch, _LowLevel,
                                                   _n, _s, _utc)
from chalicelib.adapters.dynamodb.redemptions import redemption_item, settle_update
from chalicelib.domain.codes import CodeState, RedeemCode, Redemption, RedemptionStatus, Tally
from chalicelib.domain.ports.common import WriteResult


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
        return {item["code"]["S"]: code_from_item(item) for item in self._batch_get(list(codes), None)}

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
            settle_update(redemption, RedemptionStatus.FAILED, reason, now),
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
