"""The CloudFormation source and the code agree: models mirror tables, queues are wired safely, and the
packaged template has what Chalice cannot write itself."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib.adapters.dynamodb import models
from devstack.infra import resolve_name, resources_of_type

ROOT = Path(__file__).resolve().parents[2]
CHALICE_CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
TABLES = resources_of_type("AWS::DynamoDB::Table")
QUEUES = resources_of_type("AWS::SQS::Queue")


def table_for(model) -> dict:
    suffix = models.table_suffix(model)
    for resource in TABLES.values():
        if resolve_name(resource["Properties"]["TableName"], "p") == f"p-{suffix}":
            return resource["Properties"]
    raise AssertionError(f"no table in the template for {model.__name__} ({suffix})")


def key_schema(hash_name, range_name):
    schema = [{"AttributeName": hash_name, "KeyType": "HASH"}]
    if range_name:
        schema.append({"AttributeName": range_name, "KeyType": "RANGE"})
    return schema


def attribute_type(model, name) -> str:
    return model.get_attributes()[name].attr_type


@pytest.mark.parametrize("model", models.ALL_MODELS, ids=lambda model: model.__name__)
def test_each_model_matches_its_table(model):
    table = table_for(model)
    declared = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert table["KeySchema"] == key_schema(model._hash_keyname, model._range_keyname)
    indexes = {index.Meta.index_name: index for index in model._indexes.values()}
    template_indexes = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == set(template_indexes)
    for name, index in indexes.items():
        hash_attribute = next(a for a in index.Meta.attributes.values() if a.is_hash_key)
        range_attribute = next((a for a in index.Meta.attributes.values() if a.is_range_key), None)
        assert template_indexes[name]["KeySchema"] == key_schema(
            hash_attribute.attr_name, range_attribute.attr_name if range_attribute else None), name
        projection = template_indexes[name]["Projection"]
        assert projection["ProjectionType"] == index.Meta.projection.projection_type, name
        if projection["ProjectionType"] == "INCLUDE":
            assert sorted(projection["NonKeyAttributes"]) == sorted(index.Meta.projection.non_key_attributes)
    for name, kind in declared.items():
        assert attribute_type(model, name) == kind, name


def test_every_table_is_on_demand_recoverable_and_encrypted():
    for name, resource in TABLES.items():
        properties = resource["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST", name
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert properties["SSESpecification"] == {"SSEEnabled": True}, name


def consumer_timeouts() -> dict[str, int]:
    """Logical queue name -> timeout of the function that consumes it."""
    from app import app

    functions = CHALICE_CONFIG["lambda_functions"]
    return {source.queue: functions[source.name]["lambda_timeout"]
            for source in app.event_sources if type(source).__name__ == "SQSEventConfig"}


def test_work_queues_redrive_after_five_receives_and_outlast_their_consumer():
    names = {logical: resolve_name(q["Properties"]["QueueName"], "p") for logical, q in QUEUES.items()}
    timeouts = consumer_timeouts()
    assert timeouts
    for queue, timeout in timeouts.items():
        logical = next(key for key, name in names.items() if name == f"p-{queue}")
        properties = QUEUES[logical]["Properties"]
        assert properties["RedrivePolicy"]["maxReceiveCount"] == 5
        assert properties["VisibilityTimeout"] >= 6 * timeout


def test_packaged_sqs_mappings_report_batch_item_failures_from_template_queues(packaged):
    resources = packaged["Resources"]
    mappings = [(name, event) for name, resource in resources.items()
                if resource["Type"] == "AWS::Serverless::Function"
                for event in resource["Properties"].get("Events", {}).values() if event["Type"] == "SQS"]
    assert mappings
    for name, event in mappings:
        properties = event["Properties"]
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert list(properties["Queue"]) == ["Fn::Sub"], name
        arn_prefix = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"
        assert properties["Queue"]["Fn::Sub"].startswith(arn_prefix), name
        queue_name = properties["Queue"]["Fn::Sub"][len(arn_prefix):]
        queue = next(logical for logical, resource in resources.items() if resource["Type"] == "AWS::SQS::Queue"
                     and resource["Properties"]["QueueName"] == {"Fn::Sub": queue_name})
        assert queue in resources[name]["DependsOn"], name


def test_packaged_functions_have_error_and_throttle_alarms_and_queues_have_dlq_alarms(packaged):
    resources = packaged["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for metric in ("Errors", "Throttles"):
            assert any(a.get("MetricName") == metric and a["Dimensions"][0]["Value"] == {"Ref": name}
                       for a in alarms), (name, metric)
    for name, resource in resources.items():
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" not in resource["Properties"]:
            assert any(a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
                       and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [name, "QueueName"]} for a in alarms), name
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


def test_deployed_stages_trace_and_keep_secrets_out_of_the_repo(packaged):
    for stage in ("dev", "prod"):
        config = CHALICE_CONFIG["stages"][stage]
        assert config["autogen_policy"] is False and config["xray"] is True
        for secret in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET", "ADMIN_API_KEY",
                       "CODE_SECRET_KEY"):
            assert secret not in config["environment_variables"]
    # The SSM names come from the template's SecretsPath, per function (tests/infra/test_roles.py)
    globals_env = packaged["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_env["TELEGRAM_BOT_TOKEN_SSM_PARAMETER"] == {"Fn::Sub": "${SecretsPath}/telegram-bot-token"}
    # A deploy needs no override: the default is prod's path (`make package STAGE=dev` writes dev's)
    assert packaged["Parameters"]["SecretsPath"]["Default"] == "/tgshop/prod"
    functions = [r for r in packaged["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert all(function["Properties"]["Tracing"] == "Active" for function in functions)


def test_deployed_functions_get_the_admin_chat_from_a_required_parameter(packaged):
    # A deploy without the chat fails at CloudFormation, before any alert could be dropped
    parameter = packaged["Parameters"]["AdminChatId"]
    assert "Default" not in parameter and parameter["AllowedPattern"] == "^-?[0-9]+$"
    assert packaged["Globals"]["Function"]["Environment"]["Variables"]["ADMIN_CHAT_ID"] == {"Ref": "AdminChatId"}
    for stage in ("dev", "prod"):
        assert "ADMIN_CHAT_ID" not in CHALICE_CONFIG["stages"][stage]["environment_variables"]
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            assert "ADMIN_CHAT_ID" not in resource["Properties"].get("Environment", {}).get("Variables", {})


def test_deployed_functions_get_the_tron_settings_from_parameters(packaged):
    from chalicelib.domain.tron import tron_address_from_account_bytes
    from chalicelib.tron_config import load_tron_settings
    hot_wallet = tron_address_from_account_bytes(b"a deployed hot walle")
    parameters = packaged["Parameters"]
    assert "Default" not in parameters["TronShopAddress"]          # no hot wallet is a safe guess
    assert parameters["TronNodeUrl"]["Default"] == "https://api.trongrid.io"
    assert parameters["TronSwapAddress"]["Default"] == ""          # empty: no automatic exchange
    variables = packaged["Globals"]["Function"]["Environment"]["Variables"]
    assert {name: variables[name] for name in ("TRON_NODE_URL", "TRON_SHOP_ADDRESS", "TRON_SWAP_ADDRESS")} == {
        "TRON_NODE_URL": {"Ref": "TronNodeUrl"}, "TRON_SHOP_ADDRESS": {"Ref": "TronShopAddress"},
        "TRON_SWAP_ADDRESS": {"Ref": "TronSwapAddress"}}
    for stage in ("dev", "prod"):     # a stage may name its node; the hot wallet is the deploy's parameter
        assert "TRON_SHOP_ADDRESS" not in CHALICE_CONFIG["stages"][stage]["environment_variables"]
    for name, parameter in (("TronShopAddress", hot_wallet), ("TronSwapAddress", "")):
        assert re.fullmatch(parameters[name]["AllowedPattern"], parameter), name
    assert not re.fullmatch(parameters["TronShopAddress"]["AllowedPattern"], "0x" + "ab" * 20)
    # what the parameters give a function is what a deployed stage needs (its key from SSM besides)
    settings = load_tron_settings({"STAGE": "prod", "TRON_NODE_URL": parameters["TronNodeUrl"]["Default"],
                                   "TRON_SHOP_ADDRESS": hot_wallet, "TRON_SWAP_ADDRESS": "",
                                   "TRON_PRIVATE_KEY_SSM_PARAMETER": "/tgshop/prod/tron-private-key"})
    assert settings.node_url == "https://api.trongrid.io"
