"""Each Lambda function's role reaches exactly what that function uses, no more and no less.

What a function uses is observed, not declared: every function of the app runs its work (tests/infra/access.py)
in a fresh container, without the secrets its role may not read, against emulated AWS, and every AWS call it
makes is recorded as the IAM action it needs on the table, index or queue it names. The packaged template's
role of that function must grant exactly those, plus what its wiring needs (an SQS event source polls with
the function's role), exactly the SSM parameters its environment names (which are the secrets it asked for
plus those every function's settings require), its own log group and X-Ray. A role that grows (a table the
function never touches, BatchWriteItem where it only updates) or shrinks (an action a path needs) fails."""
from __future__ import annotations

from collections import defaultdict
from pprint import pformat
from typing import Any

import pytest

from chalicelib.config import SSM_SETTINGS, Settings
from devstack.infra import resolve_name
from tests.codes_support import codes  # noqa: F401 - the fixture
from tests.conftest import PREFIX
from tests.infra.access import recording, run_every_function

EVENT_SOURCE_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
COMMON = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
Grants = dict[tuple[str, str], set[str]]


def logical_name(function: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if function == "api_handler" else to_cfn_resource_name(function)


def app_functions() -> list[str]:
    from app import app

    return ["api_handler", *sorted(source.name for source in app.event_sources)]


def resource_key(resource: Any, resources: dict) -> tuple[str, str]:
    """A role's resource as (service, name under the tests' prefix): a table, "<table>/index" or a queue."""
    if "Fn::GetAtt" in resource:
        logical = resource["Fn::GetAtt"][0]
        suffix = ""
    else:
        text = resource["Fn::Sub"]
        assert text.startswith("${") and text.endswith(".Arn}/index/*"), text
        logical, suffix = text[2:-len(".Arn}/index/*")], "/index"
    definition = resources[logical]
    if definition["Type"] == "AWS::DynamoDB::Table":
        return "dynamodb", resolve_name(definition["Properties"]["TableName"], PREFIX) + suffix
    assert definition["Type"] == "AWS::SQS::Queue" and not suffix, logical
    return "sqs", resolve_name(definition["Properties"]["QueueName"], PREFIX)


def role_of(packaged: dict, function: str) -> list[dict]:
    resources = packaged["Resources"]
    role = resources[logical_name(function)]["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = resources[role]["Properties"]["Policies"]
    assert len(policies) == 1
    return policies[0]["PolicyDocument"]["Statement"]


def data_grants(packaged: dict, function: str) -> Grants:
    grants: Grants = defaultdict(set)
    for statement in role_of(packaged, function):
        assert statement["Effect"] == "Allow"
        actions = set(statement["Action"])
        if actions & COMMON or actions == {"ssm:GetParameter"}:
            continue
        for resource in statement["Resource"]:
            grants[resource_key(resource, packaged["Resources"])] |= actions
    return dict(grants)


def environment(packaged: dict, function: str) -> dict:
    variables = dict(packaged["Globals"]["Function"]["Environment"]["Variables"])
    own = packaged["Resources"][logical_name(function)]["Properties"].get("Environment", {}).get("Variables", {})
    return {**variables, **own}


def ssm_names(packaged: dict, function: str) -> dict[str, str]:
    """Setting -> its parameter's path under SecretsPath, from the function's environment."""
    names = {}
    for name, value in environment(packaged, function).items():
        if name.endswith("_SSM_PARAMETER"):
            text = value["Fn::Sub"]
            assert text.startswith("${SecretsPath}/"), (function, name, value)
            names[name[:-len("_SSM_PARAMETER")]] = text[len("${SecretsPath}"):]
    return names


def withheld_for(packaged: dict):
    """The settings a function runs without: the secrets its environment does not name."""
    def withheld(function: str) -> dict[str, Any]:
        given = set(ssm_names(packaged, function))
        return {field: None if field != "payment_webhook_secrets" else ()
                for field, info in Settings.model_fields.items()
                if info.alias in SSM_SETTINGS and info.alias not in given and not info.is_required()}
    return withheld


@pytest.fixture
def observed(api, codes, clock, sandbox, monkeypatch, packaged, tron_node):  # noqa: F811
    with recording(monkeypatch, api.client, withheld_for(packaged)) as recorder:
        run_every_function(api, codes, clock, sandbox, tron_node)
    return recorder


def test_each_role_reaches_exactly_what_its_function_uses(observed, packaged):
    """One run of every function (it takes a while) feeds both checks."""
    data_reached_exactly(observed, packaged)
    secrets_given_exactly(observed, packaged)


def data_reached_exactly(observed, packaged) -> None:
    from app import app

    consumed = {source.name: f"{PREFIX}-{source.queue}" for source in app.event_sources
                if type(source).__name__ == "SQSEventConfig"}
    functions = app_functions()
    assert set(observed.usage) == set(functions), "every function ran"
    differences = {}   # every function's, so one run shows them all
    for function in functions:
        needed: Grants = {key: set(actions) for key, actions in observed.usage[function].items()}
        if function in consumed:
            needed.setdefault(("sqs", consumed[function]), set()).update(EVENT_SOURCE_ACTIONS)
        granted = data_grants(packaged, function)
        if granted != needed:
            differences[function] = {"not used": {k: sorted(v - needed.get(k, set()))
                                                  for k, v in granted.items() if v - needed.get(k, set())},
                                     "missing": {k: sorted(v - granted.get(k, set()))
                                                 for k, v in needed.items() if v - granted.get(k, set())}}
    assert differences == {}, pformat(differences)


def secrets_given_exactly(observed, packaged) -> None:
    required = {info.alias for info in Settings.model_fields.values()
                if info.alias in SSM_SETTINGS and info.is_required()}
    assert required == {"TELEGRAM_BOT_TOKEN", "PAYMENT_ADDRESSES"}
    for function in app_functions():
        given = ssm_names(packaged, function)
        assert set(given) == required | observed.secrets_asked[function], function
        readable = [resource["Fn::Sub"] for statement in role_of(packaged, function)
                    if statement["Action"] == ["ssm:GetParameter"] for resource in statement["Resource"]]
        prefix = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SecretsPath}"
        assert sorted(readable) == sorted(prefix + path for path in given.values()), function
    assert observed.secrets_asked["api_handler"] == {"TELEGRAM_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET",
                                                     "ADMIN_API_KEY", "CODE_SECRET_KEY", "TRON_PRIVATE_KEY"}


def test_each_role_writes_only_its_own_logs_and_traces(packaged):
    for function in app_functions():
        statements = [s for s in role_of(packaged, function) if set(s["Action"]) & COMMON]
        assert {action for s in statements for action in s["Action"]} == COMMON
        logs = next(s for s in statements if "logs:PutLogEvents" in s["Action"])
        assert logs["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
                                                f"log-group:/aws/lambda/${{AWS::StackName}}-{logical_name(function)}-*:*"}]
        xray = next(s for s in statements if "xray:PutTraceSegments" in s["Action"])
        assert xray["Resource"] == ["*"]
