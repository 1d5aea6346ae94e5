"""Reads infra/resources.yaml and creates its tables and queues on an emulator: the local stack and the
tests build exactly what CloudFormation deploys."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "infra" / "resources.yaml"


@lru_cache(maxsize=1)
def load_template() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE_PATH.read_text())


def resources_of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in load_template()["Resources"].items()
            if resource.get("Type") == resource_type}


def resolve_name(value: Any, prefix: str) -> str:
    """Names in the template are `Fn::Sub: "${AWS::StackName}-suffix"`; the stack name is the prefix."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"].replace("${AWS::StackName}", prefix)
    return str(value)


def table_definitions(prefix: str) -> list[dict[str, Any]]:
    """CreateTable requests derived from every AWS::DynamoDB::Table in the template."""
    requests = []
    for resource in resources_of_type("AWS::DynamoDB::Table").values():
        properties = resource["Properties"]
        request: dict[str, Any] = {
            "TableName": resolve_name(properties["TableName"], prefix),
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if properties.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        requests.append({"create": request, "ttl": properties.get("TimeToLiveSpecification")})
    return requests


def queue_definitions(prefix: str) -> list[dict[str, Any]]:
    """CreateQueue requests, dead-letter queues first so redrive policies can name them."""
    queues = resources_of_type("AWS::SQS::Queue")
    logical_to_name = {logical: resolve_name(resource["Properties"]["QueueName"], prefix)
                       for logical, resource in queues.items()}
    ordered = sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1]["Properties"])
    requests = []
    for logical, resource in ordered:
        properties = resource["Properties"]
        attributes = {}
        if "VisibilityTimeout" in properties:
            attributes["VisibilityTimeout"] = str(properties["VisibilityTimeout"])
        if "MessageRetentionPeriod" in properties:
            attributes["MessageRetentionPeriod"] = str(properties["MessageRetentionPeriod"])
        redrive = properties.get("RedrivePolicy")
        if redrive:
            target_logical = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetName": logical_to_name[target_logical],
                                                      "maxReceiveCount": str(redrive["maxReceiveCount"])})
        requests.append({"logical_id": logical, "QueueName": logical_to_name[logical], "Attributes": attributes})
    return requests


def create_resources(dynamodb: Any, sqs: Any, prefix: str, region: str = "us-east-1",
                     account_id: str = "123456789012") -> dict[str, str]:
    """Create every table and queue (idempotent); returns queue name -> URL."""
    existing = set(dynamodb.list_tables().get("TableNames", []))
    for definition in table_definitions(prefix):
        create = definition["create"]
        if create["TableName"] not in existing:
            dynamodb.create_table(**create)
            ttl = definition["ttl"]
            if ttl:
                dynamodb.update_time_to_live(TableName=create["TableName"], TimeToLiveSpecification=ttl)
    urls: dict[str, str] = {}
    for definition in queue_definitions(prefix):
        attributes = dict(definition["Attributes"])
        redrive = attributes.get("RedrivePolicy")
        if redrive:
            policy = json.loads(redrive)
            target = policy.pop("deadLetterTargetName")
            policy["deadLetterTargetArn"] = f"arn:aws:sqs:{region}:{account_id}:{target}"
            attributes["RedrivePolicy"] = json.dumps(policy)
        response = sqs.create_queue(QueueName=definition["QueueName"], Attributes=attributes)
        urls[definition["QueueName"]] = response["QueueUrl"]
    return urls


def seed_defaults(container: Any) -> None:
    """The live settings every registered product starts with, written only where none exist."""
    for setting_id, value in container.products.default_settings().items():
        container.settings_store.put_if_absent(setting_id, value)
