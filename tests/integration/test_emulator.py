"""The embedded emulator's own rules (devstack/emulator.py), against moto's in-process mock."""
from __future__ import annotations

import pytest

TABLE = "tgshop-test-guards"


@pytest.fixture
def dynamodb(aws):
    return aws["dynamodb"]


def test_the_emulator_backs_up_only_touched_items_with_moto_s_own_answers(dynamodb, monkeypatch):
    from botocore.exceptions import ClientError
    from moto.dynamodb.models import DynamoDBBackend

    ledger = "tgshop-test-ledger"

    def transactions(tag: str) -> list[list[dict]]:
        guard = {"guard_id": {"S": f"{tag}-g"}}
        line = {"pk": {"S": f"{tag}-acct"}, "sk": {"S": "line#1"}}
        add = {"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}
        refused = {"ConditionExpression": "attribute_not_exists(pk)"}
        return [
            [{"Put": {"TableName": TABLE, "Item": {**guard, "expires_at": {"N": "1"}}}},
             {"Update": {"TableName": ledger, "Key": line, **add}}],
            [{"Update": {"TableName": ledger, "Key": line, **add}},                      # applied, then undone
             {"Put": {"TableName": TABLE, "Item": {"guard_id": {"S": f"{tag}-new"}, "expires_at": {"N": "2"}}}},
             {"Update": {"TableName": ledger, "Key": {**line, "sk": {"S": "line#2"}}, **add}},
             {"Update": {"TableName": TABLE, "Key": guard, **add,
                         "ConditionExpression": "attribute_not_exists(guard_id)"}}],
            [{"Update": {"TableName": ledger, "Key": {**line, "sk": {"S": "line#3"}}, **add}},
             {"Update": {"TableName": ledger, "Key": {**line, "sk": {"S": "line#4"}}, **add, **refused}}],
            [{"Update": {"TableName": TABLE, "Key": guard, **add}},
             {"Update": {"TableName": TABLE, "Key": guard, **add}}],                    # one item twice: refused
        ]

    def run(tag: str) -> list:
        answers = []
        for items in transactions(tag):
            try:
                dynamodb.transact_write_items(TransactItems=items)
                answers.append("applied")
            except ClientError as error:
                answers.append((error.response["Error"]["Code"],
                                [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]))
        tables = [sorted(str(item).replace(tag, "") for item in dynamodb.scan(TableName=name)["Items"]
                         if tag in str(item)) for name in (TABLE, ledger)]
        return [answers, tables]

    backed_up = run("items")
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", DynamoDBBackend.transact_write_items.__wrapped__)
    plain = run("plain")
    assert plain[0][0] == "applied" and plain[0][1][0] == "TransactionCanceledException"
    assert backed_up == plain
