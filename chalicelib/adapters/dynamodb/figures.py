"""Distributor figures read back from the counter items the code transactions add to (raw client, see
lowlevel.py): "total#<shard>" items, with one `live#<expiry day>` counter per expiry day, and
"day#<YYYY-MM-DD>#<shard>" items, summed over the shards. The shards are spread over FIGURES_PARTITIONS
partition keys, so a read is one Query per partition (paged), whatever the number of codes or events."""
from __future__ import annotations

from typing import Any, Iterable

from chalicelib.adapters.dynamodb import models
from chalicelib.adapters.dynamodb.lowlevel import FIGURES_PARTITIONS, LIVE_PREFIX, _LowLevel, _s, figures_partition
from chalicelib.domain.codes import CounterSet


class DynamoFigureStore(_LowLevel):
    def _query(self, distributor_id: str, condition: str, values: dict) -> Iterable[dict]:
        for partition in range(FIGURES_PARTITIONS):
            request: dict[str, Any] = {
                "TableName": models.DistributorStatItem.Meta.table_name,
                "KeyConditionExpression": f"#d = :d AND {condition}",
                "ExpressionAttributeNames": {"#d": "distributor_id", "#p": "period"},
                "ExpressionAttributeValues": {":d": _s(figures_partition(distributor_id, partition)), **values},
                "ConsistentRead": True}
            while True:
                response = self.client.query(**request)
                yield from response.get("Items", [])
                if not response.get("LastEvaluatedKey"):
                    break
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
