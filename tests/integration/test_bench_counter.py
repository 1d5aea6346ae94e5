"""The DynamoDB call counter the benchmarks report with (bench/dynamo_counter.py), against moto."""
from __future__ import annotations

import boto3
import pytest
from botocore.client import BaseClient

from bench.dynamo_counter import DynamoCounter, item_size

TABLE = "tgshop-test-guards"


@pytest.fixture
def dynamodb(aws):
    return aws["dynamodb"]


def _item(key: str) -> dict:
    return {"guard_id": {"S": key}, "expires_at": {"N": "1"}}


def test_counts_calls_and_items_written_per_operation(dynamodb):
    with DynamoCounter() as counter:
        dynamodb.put_item(TableName=TABLE, Item=_item("a"))
        dynamodb.update_item(TableName=TABLE, Key={"guard_id": {"S": "a"}},
                             UpdateExpression="SET expires_at = :v", ExpressionAttributeValues={":v": {"N": "2"}})
        dynamodb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": _item(f"b{i}")}} for i in range(7)]})
        dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": _item(f"t{i}")}}
                                                     for i in range(3)])
        dynamodb.delete_item(TableName=TABLE, Key={"guard_id": {"S": "a"}})
        dynamodb.get_item(TableName=TABLE, Key={"guard_id": {"S": "t0"}})
        dynamodb.scan(TableName=TABLE)

    assert counter.calls == {"PutItem": 1, "UpdateItem": 1, "BatchWriteItem": 1, "TransactWriteItems": 1,
                             "DeleteItem": 1, "GetItem": 1, "Scan": 1}
    assert counter.total_calls == 7
    assert counter.items_written == 1 + 1 + 7 + 3 + 1
    assert counter.items_read == 1 + 10
    assert counter.read_units_estimate > 0


def test_sees_clients_made_before_it_and_pynamodb_connections(container):
    from chalicelib.adapters.dynamodb.guards import DynamoGuardStore

    early = boto3.client("dynamodb", region_name="us-east-1")
    early.list_tables()
    guards = DynamoGuardStore()
    assert guards.claim("warm", 60, container.clock.now())  # pynamodb's own session and client now exist

    with DynamoCounter() as counter:
        early.put_item(TableName=TABLE, Item=_item("early"))
        assert not guards.claim("warm", 60, container.clock.now())  # a failed condition is still a call

    assert counter.calls == {"PutItem": 2}
    assert counter.failed_calls == 1
    assert counter.items_written == 1


def test_reset_nesting_and_uninstall(dynamodb):
    original = BaseClient._make_api_call
    with DynamoCounter() as outer:
        dynamodb.put_item(TableName=TABLE, Item=_item("x"))
        with DynamoCounter(record=True) as inner:
            dynamodb.get_item(TableName=TABLE, Key={"guard_id": {"S": "x"}})
        outer.reset()
        dynamodb.put_item(TableName=TABLE, Item=_item("y"))

    assert inner.calls == {"GetItem": 1} and inner.recorded[0][0] == "GetItem"
    assert outer.calls == {"PutItem": 1} and outer.items_written == 1
    assert BaseClient._make_api_call is original
    with DynamoCounter() as later:
        pass
    dynamodb.put_item(TableName=TABLE, Item=_item("z"))  # after exit: not counted anywhere
    assert later.total_calls == 0


def test_other_services_are_not_counted(aws):
    with DynamoCounter() as counter:
        aws["sqs"].list_queues()
    assert counter.total_calls == 0


def test_item_size_follows_dynamodb_rules():
    assert item_size({"id": {"S": "abc"}}) == 2 + 3
    assert item_size({"flag": {"BOOL": True}}) == 4 + 1
    assert item_size({"n": {"N": "12345"}}) == 1 + 4


def test_the_ledger_bench_reads_a_partition_with_the_emulators_own_answers(dynamodb):
    from bench.bench_ledger import partition_reads

    table = "tgshop-test-ledger"
    for account in range(3):
        for line in range(40):
            dynamodb.put_item(TableName=table, Item={
                "pk": {"S": f"acct:{account}"}, "sk": {"S": f"line#{line:03}"}, "pad": {"S": "x" * 30_000},
                "day_shard": {"S": f"2026-11-24#{line % 2}"}, "posted_at": {"S": f"2026-11-24T00:{line:02}"}})
    queries = [
        {"KeyConditionExpression": "pk = :p AND sk >= :s",
         "ExpressionAttributeValues": {":p": {"S": "acct:1"}, ":s": {"S": "line#005"}}},
        {"IndexName": "entry-day", "KeyConditionExpression": "day_shard = :d",
         "ExpressionAttributeValues": {":d": {"S": "2026-11-24#1"}}, "ScanIndexForward": False},
    ]

    def pages(query: dict) -> list:
        answers, start = [], {}
        while True:
            page = dynamodb.query(TableName=table, **query, **start)
            answers.append((page["Items"], page.get("LastEvaluatedKey")))
            if "LastEvaluatedKey" not in page:
                return answers
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    plain = [pages(query) for query in queries]
    with partition_reads():
        partitioned = [pages(query) for query in queries]
    assert all(len(answers) > 1 for answers in plain)   # 30 KB items: the 1 MB page limit splits both
    assert partitioned == plain
