"""The use counters of a hot code (one with `use_shards`, see domain/codes.py): transaction items and reads.

Counter `k` of code C is the item `C#k` of the codes table (no code is spelled with '#'), made by its first
use: `used_count` and a copy of the code's state. Each holds `shard_quota(max_uses, shards, k)` uses, so
however they are taken the code never serves more than max_uses. A use names its counter, so buyers of one
code update different items and their transactions stop conflicting. The code item keeps the set of counters
used up (`depleted_shards`), changed only by the last use of a counter (or by giving that use back), with a
condition on the set's size: the use that empties the last counter on the size as it was read, so that it knows
it empties the code; the last use of any other counter only on the set not being one short of full, so that
the last uses of different counters, at the end of a hot code, do not refuse each other.
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import models
from chalicelib.adapters.dynamodb.lowlevel import _n, _s
from chalicelib.domain.codes import CodeState, RedeemCode, shard_quota

DEPLETED = "depleted_shards"
_ACTIVE = _s(CodeState.ACTIVE.value)


def counter_key(code: str, shard: int) -> dict:
    return {"code": _s(f"{code}#{shard}")}


def _table() -> str:
    return models.CodeItem.Meta.table_name


def _depleted_as_read(code: RedeemCode) -> tuple[str, dict]:
    """A condition that the code item's set of used-up counters is still the one read."""
    read = len(code.depleted_shards)
    if read == 0:
        return "attribute_not_exists(#depleted)", {}
    return "size(#depleted) = :read", {":read": _n(read)}


def _not_emptied_by_another(code: RedeemCode) -> tuple[str, dict]:
    """The condition of a counter's last use on the code item: the set as read for the code's last use, else
    that adding one counter leaves the set short of full (when it would not, the code is read again)."""
    if len(code.depleted_shards) == code.use_shards - 1:
        return _depleted_as_read(code)
    return "(attribute_not_exists(#depleted) OR size(#depleted) < :one_short)", {":one_short": _n(code.use_shards - 1)}


def take_use(code: RedeemCode, shard: int, last: bool) -> list[dict]:
    """The counter's update (first) and, for its last use, the code item's (last).

    A counter's last use is taken only when named (`last`), so the set of used-up counters is always right.
    SHARDED_FROM_USES / USE_SHARDS >= 2, so a counter never starts at its last use."""
    last_use = shard_quota(code.max_uses, code.use_shards, shard) - 1
    uses = "#used = :last" if last else "(attribute_not_exists(#used) OR #used < :last)"
    items = [{"Update": {
        "TableName": _table(), "Key": counter_key(code.code, shard),
        "UpdateExpression": "SET #used = if_not_exists(#used, :zero) + :one, #state = if_not_exists(#state, :active)",
        "ConditionExpression": f"(attribute_not_exists(#state) OR #state = :active) AND {uses}",
        "ExpressionAttributeNames": {"#used": "used_count", "#state": "state"},
        "ExpressionAttributeValues": {":zero": _n(0), ":one": _n(1), ":active": _ACTIVE, ":last": _n(last_use)}}}]
    if last:
        condition, values = _not_emptied_by_another(code)
        items.append({"Update": {
            "TableName": _table(), "Key": {"code": _s(code.code)}, "UpdateExpression": "ADD #depleted :shard",
            "ConditionExpression": f"#state = :active AND {condition}",
            "ExpressionAttributeNames": {"#depleted": DEPLETED, "#state": "state"},
            "ExpressionAttributeValues": {":shard": {"NS": [str(shard)]}, ":active": _ACTIVE, **values}}})
    return items


def give_use_back(code: RedeemCode, shard: int) -> list[dict]:
    """The counter's update (first) and, when it was used up on an active code, the code item's (last)."""
    quota = shard_quota(code.max_uses, code.use_shards, shard)
    was_used_up = code.state == CodeState.ACTIVE and shard in code.depleted_shards
    condition = ("#state = :active AND #used = :quota" if was_used_up
                 else "#used > :zero AND (#used < :quota OR #state = :inactive)")
    values: dict[str, Any] = {":one": _n(1), ":quota": _n(quota)}
    values.update({":active": _ACTIVE} if was_used_up
                  else {":zero": _n(0), ":inactive": _s(CodeState.INACTIVE.value)})
    items = [{"Update": {
        "TableName": _table(), "Key": counter_key(code.code, shard), "UpdateExpression": "SET #used = #used - :one",
        "ConditionExpression": condition, "ExpressionAttributeNames": {"#used": "used_count", "#state": "state"},
        "ExpressionAttributeValues": values}}]
    if was_used_up:
        size_condition, size_values = _depleted_as_read(code)
        items.append({"Update": {
            "TableName": _table(), "Key": {"code": _s(code.code)}, "UpdateExpression": "DELETE #depleted :shard",
            "ConditionExpression": f"contains(#depleted, :number) AND {size_condition}",
            "ExpressionAttributeNames": {"#depleted": DEPLETED},
            "ExpressionAttributeValues": {":shard": {"NS": [str(shard)]}, ":number": _n(shard), **size_values}}})
    return items


def deactivate_counters(code: RedeemCode) -> list[dict]:
    """Every counter INACTIVE too (made if absent), so a use in flight cannot slip past a deactivation."""
    return [{"Update": {"TableName": _table(), "Key": counter_key(code.code, shard),
                        "UpdateExpression": "SET #state = :inactive", "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": {":inactive": _s(CodeState.INACTIVE.value)}}}
            for shard in range(code.use_shards)]


def deactivation_condition(code: RedeemCode) -> tuple[str, dict]:
    """The code item's condition that its counters are used up or not, as read."""
    return _depleted_as_read(code)


def shard_fields(item: dict) -> dict[str, Any]:
    """RedeemCode fields a code item adds when its uses are counted on counters of their own."""
    shards = int(item.get("use_shards", {}).get("N", 0))
    if not shards:
        return {}
    depleted = frozenset(int(number) for number in item.get(DEPLETED, {}).get("NS", []))
    max_uses = int(item["max_uses"]["N"])
    return {"use_shards": shards, "depleted_shards": depleted,
            "used_count": sum(shard_quota(max_uses, shards, shard) for shard in depleted)}


def counted_uses(code: RedeemCode, counters: dict[str, dict]) -> int:
    """A hot code's uses from its counter items (key -> item, absent: never used)."""
    return sum(int(counters.get(f"{code.code}#{shard}", {}).get("used_count", {}).get("N", 0))
               for shard in range(code.use_shards))
