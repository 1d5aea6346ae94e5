"""The baselines replay tgshop's recorded calls without their conditions (bench/cold_support.py), against moto:
every replayed write applies, as the recorded one did."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from bench.cold_support import AwsRecorder, on_order, unconditional

TABLE = "tgshop-test-guards"


@pytest.fixture
def dynamodb(aws):
    return aws["dynamodb"]


def _key(name: str) -> dict:
    return {"guard_id": {"S": name}}


def _claim(dynamodb, name: str, until: int) -> None:
    """A claim as tgshop writes one: only while the item is absent or expired, names and values shared by the
    condition and the update."""
    dynamodb.update_item(TableName=TABLE, Key=_key(name), UpdateExpression="SET #1 = :1 ADD #0 :2",
                         ConditionExpression="attribute_not_exists (#2) OR #1 <= :0",
                         ExpressionAttributeNames={"#0": "tokens", "#1": "expires_at", "#2": "guard_id"},
                         ExpressionAttributeValues={":0": {"N": "100"}, ":1": {"N": str(until)}, ":2": {"N": "1"}})


def _replay(dynamodb, calls: list) -> None:
    for _, operation, params in calls:
        getattr(dynamodb, {"UpdateItem": "update_item", "PutItem": "put_item",
                           "TransactWriteItems": "transact_write_items"}[operation])(**params)


def test_a_replayed_write_applies_though_the_recorded_condition_is_used_up(dynamodb):
    with AwsRecorder() as recorder:
        _claim(dynamodb, "bucket", until=500)
        dynamodb.put_item(TableName=TABLE, Item={**_key("claim"), "expires_at": {"N": "1"}},
                          ConditionExpression="attribute_not_exists (#0)", ExpressionAttributeNames={"#0": "guard_id"})
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        _replay(dynamodb, recorder.calls)   # as recorded, the replay is refused: less work than tgshop's

    _replay(dynamodb, unconditional(recorder.calls))

    replayed = dynamodb.get_item(TableName=TABLE, Key=_key("bucket"), ConsistentRead=True)["Item"]
    assert replayed["tokens"] == {"N": "2"}, "the update applied a second time"
    assert all("ConditionExpression" not in params for _, _, params in unconditional(recorder.calls))
    assert unconditional(recorder.calls)[0][2]["ExpressionAttributeValues"] == {":1": {"N": "500"}, ":2": {"N": "1"}}


def test_a_replayed_transaction_applies_its_writes_and_leaves_out_its_checks(dynamodb):
    for name in ("order", "account"):
        dynamodb.put_item(TableName=TABLE, Item={**_key(name), "expires_at": {"N": "7"}})
    transaction = {"TransactItems": [
        {"ConditionCheck": {"TableName": TABLE, "Key": _key("account"), "ConditionExpression": "#0 = :0",
                            "ExpressionAttributeNames": {"#0": "expires_at"},
                            "ExpressionAttributeValues": {":0": {"N": "7"}}}},
        {"Put": {"TableName": TABLE, "Item": {**_key("payment"), "expires_at": {"N": "1"}},
                 "ConditionExpression": "attribute_not_exists (#0)", "ExpressionAttributeNames": {"#0": "guard_id"}}},
        {"Update": {"TableName": TABLE, "Key": _key("order"), "UpdateExpression": "SET #0 = :1",
                    "ConditionExpression": "#0 = :0", "ExpressionAttributeNames": {"#0": "expires_at"},
                    "ExpressionAttributeValues": {":0": {"N": "7"}, ":1": {"N": "8"}}}}]}
    with AwsRecorder() as recorder:
        dynamodb.transact_write_items(**transaction)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        _replay(dynamodb, recorder.calls)

    (_, _, replayed), = unconditional(recorder.calls)
    assert [list(entry) for entry in replayed["TransactItems"]] == [["Put"], ["Update"]]
    dynamodb.update_item(TableName=TABLE, Key=_key("order"), UpdateExpression="SET expires_at = :v",
                         ExpressionAttributeValues={":v": {"N": "3"}})
    _replay(dynamodb, unconditional(recorder.calls))

    assert dynamodb.get_item(TableName=TABLE, Key=_key("order"))["Item"]["expires_at"] == {"N": "8"}


def test_a_replay_on_its_own_order_writes_that_order(dynamodb):
    """A baseline replays on its request's own order: again and again on the recorded one, an appending update
    would grow that one item."""
    for name in ("order-recorded", "order-next"):
        dynamodb.put_item(TableName=TABLE, Item={**_key(name), "expires_at": {"N": "1"}})
    with AwsRecorder() as recorder:
        dynamodb.update_item(TableName=TABLE, Key=_key("order-recorded"), UpdateExpression="SET #0 = :0",
                             ConditionExpression="#0 = :1", ExpressionAttributeNames={"#0": "expires_at"},
                             ExpressionAttributeValues={":0": {"N": "2"}, ":1": {"N": "1"}})

    _replay(dynamodb, on_order(unconditional(recorder.calls), "order-recorded", "order-next"))

    assert dynamodb.get_item(TableName=TABLE, Key=_key("order-next"))["Item"]["expires_at"] == {"N": "2"}
    assert on_order(recorder.calls, "order-recorded", None) is recorder.calls
