"""The operations part of the template: alarms on the business signals watch metrics the code really emits,
every alarm reaches the topic (and through forward_alarms the operators' chat), every log group keeps its
logs for a bounded time, the public routes are throttled, the dashboard's references resolve, and the
packaged template passes cfn-lint."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.infra.test_roles import app_functions, logical_name

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "tgshop"


def emitted_metric_names() -> set[str]:
    """Every metric name the code counts: `count("X")`, `self._count("X", n)`, `add_metric(name="X")`, and
    the names in a module-level table of counters (settlement's outcome -> counter)."""
    names: set[str] = set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if callee in ("count", "_count") and node.args and isinstance(node.args[0], ast.Constant):
                    names.add(node.args[0].value)
                if callee == "add_metric":
                    names |= {k.value.value for k in node.keywords
                              if k.arg == "name" and isinstance(k.value, ast.Constant)}
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_COUNTERS" for t in node.targets):
                names |= {v.value for v in node.value.values if isinstance(v, ast.Constant)}
    return names


def our_metrics(alarm: dict) -> set[str]:
    metrics = [alarm] if "MetricName" in alarm else [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", [])
                                                   if "MetricStat" in q]
    return {m["MetricName"] for m in metrics if m["Namespace"] == NAMESPACE}


def alarms(packaged: dict) -> dict[str, dict]:
    return {name: r["Properties"] for name, r in packaged["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_business_alarms_watch_metrics_the_code_emits_and_tell_the_topic_both_ways(packaged):
    emitted = emitted_metric_names()
    assert {"OrdersPaid", "PaymentsUnmatched", "DeliveryNeedsReview", "StarBalance"} <= emitted
    found = alarms(packaged)
    for name, alarm in found.items():
        assert our_metrics(alarm) <= emitted, (name, our_metrics(alarm) - emitted)
        for metric in ([alarm] if "MetricName" in alarm else []):
            if metric["Namespace"] == NAMESPACE:   # powertools adds the service dimension to every metric
                assert metric["Dimensions"] == [{"Name": "service", "Value": "tgshop"}], name
    business = {"UnmatchedPaymentsAlarm": {"PaymentsUnmatched", "PaymentsNeverConfirmed"},
                "OrdersNeedingReviewAlarm": {"DeliveryNeedsReview"}, "StarBalanceLowAlarm": {"StarBalance"},
                "OrdersWaitingForStarsAlarm": {"OrdersWaitingForStars"},
                "LedgerDifferencesAlarm": {"LedgerDifferences"}}
    for name, metrics in business.items():
        assert our_metrics(found[name]) == metrics, name
        assert found[name]["OKActions"] == [{"Ref": "AlarmTopic"}], name
    for queue in ("DeliveryQueue", "FulfillmentQueue"):
        age = next(a for a in found.values() if a.get("MetricName") == "ApproximateAgeOfOldestMessage"
                   and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]})
        assert age["OKActions"] == [{"Ref": "AlarmTopic"}]
    rate = found["Api5xxRateAlarm"]["Metrics"]
    api = {"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}}
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in rate if "MetricStat" in q} == {"5XXError", "Count"}
    assert all(api in q["MetricStat"]["Metric"]["Dimensions"] for q in rate if "MetricStat" in q)
    assert packaged["Resources"]["RestAPI"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}


def test_the_alarm_topic_reaches_the_chat_and_cloudwatch_may_publish_to_it(packaged):
    resources = packaged["Resources"]
    events = resources["ForwardAlarms"]["Properties"]["Events"]
    assert [event["Properties"]["Topic"] for event in events.values()] == [{"Fn::Sub": "${AlarmTopic}"}]
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    statements = resources["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and "kms:GenerateDataKey*" in s["Action"]
               for s in statements)


def test_every_function_has_a_log_group_with_retention(packaged):
    resources = packaged["Resources"]
    groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    names = [g["LogGroupName"] for g in groups]
    for function in app_functions():
        assert {"Fn::Sub": f"/aws/lambda/${{{logical_name(function)}}}"} in names, function
    assert groups and all(1 <= g["RetentionInDays"] <= 90 for g in groups)


def test_the_api_stage_is_throttled_and_tighter_on_the_public_routes_that_write(packaged):
    from app import app

    settings = packaged["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    everything = next(s for s in settings if s["ResourcePath"] == "/*")
    assert everything["HttpMethod"] == "*" and everything["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    tight = {(s["ResourcePath"].replace("~1", "/")[1:], s["HttpMethod"]) for s in settings if s is not everything}
    assert tight == {("/orders", "POST"), ("/redeem", "POST")}
    for path, method in tight:
        assert method in app.routes[path]


def test_the_dashboard_is_json_whose_references_resolve(packaged):
    resources = packaged["Resources"]
    text = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for reference in re.findall(r"\$\{([^}]+)\}", text):
        name = reference.split(".")[0]
        assert name in resources or name.startswith("AWS::"), reference
    body = json.loads(re.sub(r"\$\{[^}]+\}", "x", text))
    titles = {widget["properties"]["title"] for widget in body["widgets"]}
    for wanted in ("Orders", "Payments by outcome", "Deliveries", "Queue age", "Dead-letter", "API latency",
                   "5xx", "Lambda errors", "Lambda duration"):
        assert any(wanted in title for title in titles), wanted
    ours = {m[1] for w in body["widgets"] for m in w["properties"].get("metrics", []) if m[0] == NAMESPACE}
    assert ours <= emitted_metric_names(), ours - emitted_metric_names()
    lambdas = {m[3] for w in body["widgets"] for m in w["properties"].get("metrics", []) if m[0] == "AWS/Lambda"}
    assert lambdas == {"x"} and text.count("AWS/Lambda") == 2 * len(app_functions())


def test_the_merge_template_has_no_duplicate_keys():
    """A second block under the same name silently replaces the first when the YAML is read."""
    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
        assert len(keys) == len(set(keys)), sorted({key for key in keys if keys.count(key) > 1})
        return yaml.SafeLoader.construct_mapping(loader, node, deep)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    yaml.load((ROOT / "infra" / "resources.yaml").read_text(), Loader=Strict)


def test_the_packaged_template_passes_cfn_lint(packaged, tmp_path):
    template = tmp_path / "sam.yaml"
    template.write_text(yaml.safe_dump(packaged))
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(template)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
