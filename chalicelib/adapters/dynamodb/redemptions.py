"""Redemptions in DynamoDB (raw client, see lowlevel.py): their item shape, the conditional update that
settles one, and the reads. Redeeming and giving back are transactions in DynamoCodeStore (codes.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb import models
from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.lowlevel import _LowLevel, _n, _s
from chalicelib.domain.codes import Redemption, RedemptionStatus
from chalicelib.domain.ports.common import Page
from chalicelib.domain.shared import encode_cursor

_BY_DISTRIBUTOR_KEY = {"redemption_id": "S", "distributor_id": "S", "redeemed_at": "S"}


def redemption_time(moment: datetime) -> str:
    return models.RedemptionItem.redeemed_at.serialize(moment)


def redemption_item(redemption: Redemption) -> dict[str, dict]:
    item = {"redemption_id": _s(redemption.redemption_id), "code": _s(redemption.code),
            "user_id": _n(redemption.user_id), "distributor_id": _s(redemption.distributor_id),
            "code_order_id": _s(redemption.code_order_id), "product_id": _s(redemption.product_id),
            "month_count": _n(redemption.month_count), "status": _s(redemption.status.value),
            "redeemed_at": _s(redemption_time(redemption.redeemed_at)),
            "updated_at": _s(redemption_time(redemption.updated_at)),
            "retail_micros": _n(redemption.retail_micros), "gift_order_id": _s(redemption.gift_order_id)}
    if redemption.failure_reason:
        item["failure_reason"] = _s(redemption.failure_reason)
    if redemption.use_shard is not None:
        item["use_shard"] = _n(redemption.use_shard)
    return item


def redemption_from_item(item: dict[str, dict]) -> Redemption:
    parse = models.RedemptionItem.redeemed_at.deserialize
    return Redemption(redemption_id=item["redemption_id"]["S"], code=item["code"]["S"],
                      user_id=int(item["user_id"]["N"]), distributor_id=item["distributor_id"]["S"],
                      code_order_id=item["code_order_id"]["S"], product_id=item["product_id"]["S"],
                      month_count=int(item["month_count"]["N"]), status=RedemptionStatus(item["status"]["S"]),
                      redeemed_at=parse(item["redeemed_at"]["S"]), updated_at=parse(item["updated_at"]["S"]),
                      retail_micros=int(item["retail_micros"]["N"]), gift_order_id=item["gift_order_id"]["S"],
                      failure_reason=item.get("failure_reason", {}).get("S"),
                      use_shard=int(item["use_shard"]["N"]) if "use_shard" in item else None)


def settle_update(redemption: Redemption, status: RedemptionStatus, reason: str | None, now: datetime) -> dict:
    """The transaction item moving an ACCEPTED redemption to `status` (fails if it was settled already)."""
    names = {"#status": "status", "#updated": "updated_at"}
    values = {":status": _s(status.value), ":updated": _s(redemption_time(now)),
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
        start = start_key(cursor, _BY_DISTRIBUTOR_KEY, {"distributor_id": distributor_id})
        if start:
            request["ExclusiveStartKey"] = start
        response = self.client.query(**request)
        return Page([redemption_from_item(item) for item in response.get("Items", [])],
                    encode_cursor(response.get("LastEvaluatedKey")))
