"""The local stack's pure parts: schedules, Lambda event shapes, batch failure rules, bundle pruning, ports."""
from __future__ import annotations

import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from devstack.bundle import prune_bundle, provided_by_runtime
from devstack.lambdas import ScheduledJob, scheduled_event, sqs_record
from devstack.localenv import StackError, resolve_ports
from devstack.scheduler import CronSchedule, RateSchedule, Scheduler, parse_schedule
from devstack.workers import failed_ids

NOON = datetime(2026, 11, 25, 12, 0, 30, tzinfo=timezone.utc)  # a Wednesday


# ------------------------------------------------------------------ schedules
@pytest.mark.parametrize("expression, interval", [("rate(1 minute)", timedelta(minutes=1)),
                                                  ("rate(5 minutes)", timedelta(minutes=5)),
                                                  ("rate(2 hours)", timedelta(hours=2)),
                                                  ("rate(1 day)", timedelta(days=1))])
def test_rates_parse_to_intervals(expression, interval):
    schedule = parse_schedule(expression)
    assert isinstance(schedule, RateSchedule) and schedule.next_after(NOON) == NOON + interval


@pytest.mark.parametrize("expression, expected", [
    ("cron(0/15 * * * ? *)", datetime(2026, 11, 25, 12, 15)),
    ("cron(0 10 * * ? *)", datetime(2026, 11, 26, 10, 0)),
    ("cron(30 9 ? * MON-FRI *)", datetime(2026, 11, 26, 9, 30)),
    ("cron(0 0 1 JAN ? *)", datetime(2027, 1, 1, 0, 0)),
    ("cron(5 12 ? * WED *)", datetime(2026, 11, 25, 12, 5)),
    ("cron(0 8 ? * 1 *)", datetime(2026, 11, 29, 8, 0)),  # 1 = Sunday in EventBridge
])
def test_cron_finds_the_next_matching_minute_in_utc(expression, expected):
    schedule = parse_schedule(expression)
    assert schedule.next_after(NOON) == expected.replace(tzinfo=timezone.utc)
    assert schedule.note is None


def test_cron_features_not_modelled_fall_back_to_every_minute_with_a_note():
    schedule = parse_schedule("cron(0 10 L * ? *)")
    assert isinstance(schedule, CronSchedule) and "every minute" in schedule.note
    assert schedule.next_after(NOON) == datetime(2026, 11, 25, 12, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("expression", ["rate(0 minutes)", "rate(5 weeks)", "every 5 minutes", "cron(* * *)",
                                        "cron(61 * * * ? *)"])
def test_bad_expressions_are_refused(expression):
    with pytest.raises(ValueError):
        parse_schedule(expression)


def test_the_scheduler_fires_due_jobs_with_a_scheduled_event_and_skips_missed_runs():
    events = []
    job = ScheduledJob("expire_orders", "rate(1 minute)", lambda event, context: events.append((event, context)))
    scheduler = Scheduler([job], rule_prefix="tgshop-local")
    scheduler.start_at(NOON)

    assert scheduler.tick(NOON + timedelta(seconds=59)) == NOON + timedelta(minutes=1)
    assert events == []
    # Ten minutes late (a laptop asleep): one run, and the next one a minute from the last missed slot
    wake = scheduler.tick(NOON + timedelta(minutes=10, seconds=5))
    assert len(events) == 1 and wake == NOON + timedelta(minutes=11)
    event, context = events[0]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/tgshop-local-expire_orders"]
    assert context.function_name == "expire_orders"


def test_a_failing_job_does_not_stop_the_scheduler():
    def broken(event, context):
        raise RuntimeError("boom")

    scheduler = Scheduler([ScheduledJob("broken", "rate(1 minute)", broken)], rule_prefix="p")
    scheduler.start_at(NOON)
    assert scheduler.tick(NOON + timedelta(minutes=1)) == NOON + timedelta(minutes=2)


def test_scheduled_event_shape():
    event = scheduled_event("rule", NOON)
    assert event["time"] == "2026-11-25T12:00:30Z" and event["detail"] == {} and event["id"]


# ------------------------------------------------------------------ SQS records and batch failures
def test_sqs_record_has_lambdas_shape():
    record = sqs_record({"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "MD5OfBody": "abc",
                         "Attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1"},
                         "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "x"},
                                               "blob": {"DataType": "Binary", "BinaryValue": b"\x01"}}},
                        "arn:aws:sqs:us-east-1:123456789012:q")
    assert record["messageId"] == "m1" and record["receiptHandle"] == "r1" and record["body"] == "{}"
    assert record["attributes"]["ApproximateReceiveCount"] == "3"
    assert record["messageAttributes"]["kind"]["stringValue"] == "x"
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AQ=="
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":q")


@pytest.mark.parametrize("result, expected", [
    (None, set()),
    ({}, set()),
    ({"batchItemFailures": []}, set()),
    ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
    ({"batchItemFailures": [{"itemIdentifier": "zz"}]}, {"a", "b", "c"}),  # not in the batch
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
    ({"batchItemFailures": [{}]}, {"a", "b", "c"}),
])
def test_failed_ids_follow_lambdas_rules(result, expected):
    assert failed_ids(result, ["a", "b", "c"]) == expected


# ------------------------------------------------------------------ bundle pruning
@pytest.mark.parametrize("path, package", [
    ("boto3/__init__.py", "boto3"), ("botocore/data/sqs/2012-11-05/service-2.json.gz", "botocore"),
    ("s3transfer/manager.py", "s3transfer"), ("jmespath/parser.py", "jmespath"), ("dateutil/tz/tz.py", "python_dateutil"),
    ("urllib3/poolmanager.py", "urllib3"), ("six.py", "six"),
    ("boto3-1.44.8.dist-info/METADATA", "boto3"), ("python_dateutil-2.9.0.post0.dist-info/RECORD", "python_dateutil"),
    ("six-1.17.0.dist-info/WHEEL", "six"),
    ("app.py", None), ("chalicelib/adapters/sqs.py", None), ("pynamodb/models.py", None),
    ("httpx-0.28.1.dist-info/METADATA", None), ("sixpack/x.py", None), ("urllib3_secure_extra/x.py", None),
])
def test_runtime_provided_entries(path, package):
    assert provided_by_runtime(path) == package


def test_prune_rewrites_the_zip_without_runtime_packages(tmp_path):
    bundle = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", "from chalice import Chalice\n")
        archive.writestr("chalicelib/__init__.py", "")
        archive.writestr("botocore/data/big.json", "x" * 200_000)
        archive.writestr("boto3-1.44.8.dist-info/METADATA", "Name: boto3\n")
        executable = zipfile.ZipInfo("bin/tool")
        executable.external_attr = 0o755 << 16
        archive.writestr(executable, "#!/bin/sh\n")

    report = prune_bundle(bundle)

    with zipfile.ZipFile(bundle) as archive:
        assert sorted(archive.namelist()) == ["app.py", "bin/tool", "chalicelib/__init__.py"]
        assert archive.getinfo("bin/tool").external_attr >> 16 == 0o755
        assert archive.read("app.py") == b"from chalice import Chalice\n"
    assert report.removed_packages == ("boto3", "botocore") and report.removed_entries == 2
    assert report.after < report.before
    assert list(tmp_path.iterdir()) == [bundle]  # no temporary file left behind


# ------------------------------------------------------------------ ports
def test_ports_default_and_override():
    assert resolve_ports({}).api == 8000
    ports = resolve_ports({"TGSHOP_AWS_PORT": "15000", "TGSHOP_API_PORT": "18000", "TGSHOP_SANDBOX_PORT": "18081"})
    assert (ports.aws_url, ports.api_url, ports.sandbox_url) == (
        "http://127.0.0.1:15000", "http://127.0.0.1:18000", "http://127.0.0.1:18081")


@pytest.mark.parametrize("environ, named", [({"TGSHOP_API_PORT": "eighty"}, "TGSHOP_API_PORT"),
                                            ({"TGSHOP_AWS_PORT": "70000"}, "TGSHOP_AWS_PORT"),
                                            ({"TGSHOP_SANDBOX_PORT": "8000"}, "TGSHOP_SANDBOX_PORT")])
def test_bad_ports_are_named(environ, named):
    with pytest.raises(StackError, match=named):
        resolve_ports(environ)


def test_prune_bundle_command_fails_over_the_size_budget(tmp_path, capsys):
    import os

    from devstack.__main__ import main

    bundle = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("pydantic_core/_pydantic_core.so", os.urandom(10_100_000))
        archive.writestr("botocore/__init__.py", "")

    assert main(["prune-bundle", str(bundle)]) == 1
    output = capsys.readouterr()
    assert "over the 10.00 MB budget" in output.err and "->" in output.out


def test_prune_bundle_command_passes_under_the_budget(tmp_path, capsys):
    from devstack.__main__ import main

    bundle = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("app.py", "")
        archive.writestr("urllib3/__init__.py", "")

    assert main(["prune-bundle", str(bundle)]) == 0
    assert "removed 1 files of urllib3" in capsys.readouterr().out


def test_stage_template_defaults_secrets_path_to_the_stage(tmp_path, capsys):
    import yaml

    from devstack.__main__ import main

    template = tmp_path / "sam.yaml"
    template.write_text(yaml.safe_dump({"Parameters": {"SecretsPath": {"Type": "String", "Default": "/tgshop/prod"}},
                                        "Resources": {"Fn": {"Properties": {"Sub": {"Fn::Sub": "${SecretsPath}/x"}}}}}))

    assert main(["stage-template", str(template), "dev"]) == 0
    packaged = yaml.safe_load(template.read_text())
    assert packaged["Parameters"]["SecretsPath"] == {"Type": "String", "Default": "/tgshop/dev"}
    assert packaged["Resources"]["Fn"]["Properties"]["Sub"] == {"Fn::Sub": "${SecretsPath}/x"}
    assert "/tgshop/dev" in capsys.readouterr().out


# ------------------------------------------------------------------ example requests
def test_signed_payment_is_accepted_by_the_webhook_rules():
    import json

    from chalicelib.domain.payment_methods.trc20_transfers import Transfer
    from chalicelib.domain.signatures import verify_signature_header
    from devstack.examples import payment_curl, signed_payment

    raw, signature = signed_payment("15.001", "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt", "local-payment-secret",
                                    timestamp=int(NOON.timestamp()))
    verify_signature_header(signature, raw, ("local-payment-secret",), NOON, 300)
    transfer = Transfer.model_validate(json.loads(raw))
    assert transfer.value == "15001000" and transfer.to == "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt"
    assert payment_curl("http://127.0.0.1:8000", "1", "T", "s").startswith(
        "curl -X POST http://127.0.0.1:8000/webhooks/payments/trc20 ")


@pytest.mark.parametrize("amount", ["0", "-1", "1.0000001", "abc", "NaN"])
def test_payment_amounts_must_be_exact_usdt(amount):
    from devstack.examples import usdt_micros

    with pytest.raises(ValueError):
        usdt_micros(amount)


# ------------------------------------------------------------------ what a running stack tells other shells
def test_the_local_stage_pins_no_emulator_port():
    from devstack.localenv import stage_environment
    from devstack.runstate import STATE_DIR, endpoint_file

    environment = stage_environment()
    assert "AWS_ENDPOINT_URL" not in environment
    assert not any(":5000" in value for value in environment.values())
    assert endpoint_file().parent == STATE_DIR


def test_helpers_use_the_running_stacks_ports(tmp_path):
    import os

    from devstack.localenv import Ports
    from devstack.runstate import RunningStack, helper_ports, publish, running_stack, withdraw

    endpoint = tmp_path / "aws-endpoint-url"
    stack = RunningStack(pid=os.getpid(), ports=Ports(aws=15000, api=18000, sandbox=18081))
    # Given a stack running on other ports than the defaults
    publish(stack, tmp_path, endpoint)
    assert endpoint.read_text() == "http://127.0.0.1:15000\n"
    # Then a helper started in another shell finds them, and a port named in the environment still wins
    assert helper_ports({}, tmp_path) == stack.ports
    assert helper_ports({"TGSHOP_API_PORT": "19000"}, tmp_path) == Ports(aws=15000, api=19000, sandbox=18081)
    # A stack that was killed is ignored
    publish(RunningStack(pid=2 ** 22 + 7, ports=stack.ports), tmp_path, endpoint)
    assert running_stack(tmp_path) is None and helper_ports({}, tmp_path) == resolve_ports({})
    # `make aws` knows only the emulator's port; the API is whatever `chalice local` listens on
    aws_only = RunningStack(pid=os.getpid(), ports=stack.ports, with_app=False)
    publish(aws_only, tmp_path, endpoint)
    assert helper_ports({}, tmp_path) == Ports(aws=15000, api=8000, sandbox=8081)
    # Stopping removes what the stack published
    withdraw(aws_only, tmp_path, endpoint)
    assert not endpoint.exists() and running_stack(tmp_path) is None


# ------------------------------------------------------------------ a real bot from a laptop
REAL_TOKEN = "777000:real-bot-token"


def test_init_data_is_signed_with_the_token_the_app_checks(tmp_path, monkeypatch, capsys):
    import os
    from datetime import datetime, timezone

    from chalicelib.domain.errors import Unauthenticated
    from chalicelib.domain.signatures import validate_init_data
    from devstack import runstate
    from devstack.__main__ import main
    from devstack.localenv import Ports

    monkeypatch.setattr(runstate, "STATE_DIR", tmp_path)
    now = datetime.now(timezone.utc)

    def printed(environ: dict) -> str:
        for name in ("TGSHOP_SANDBOX", "TELEGRAM_BOT_TOKEN", "TGSHOP_BOT_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        assert main(["init-data", "1001"]) == 0
        return capsys.readouterr().out.strip()

    # The sandbox: the local stage's fake token
    assert validate_init_data(printed({}), "123456:LOCAL-TOKEN", now, 60).user_id == 1001
    # Real-bot mode: the bot's own token, which the app then checks
    real = printed({"TGSHOP_SANDBOX": "off", "TELEGRAM_BOT_TOKEN": REAL_TOKEN})
    assert validate_init_data(real, REAL_TOKEN, now, 60).user_id == 1001
    with pytest.raises(Unauthenticated):
        validate_init_data(real, "123456:LOCAL-TOKEN", now, 60)
    # Another shell, next to a stack on a real bot: its token, or a clear error rather than a useless header
    runstate.publish(runstate.RunningStack(os.getpid(), Ports(15000, 18000, 18081), real_bot=True),
                     endpoint=tmp_path / "aws-endpoint-url")
    assert validate_init_data(printed({"TELEGRAM_BOT_TOKEN": REAL_TOKEN}), REAL_TOKEN, now, 60).user_id == 1001
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    assert main(["init-data"]) == 2
    assert "export TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_real_bot_mode_runs_the_app_with_dry_run_gifts(monkeypatch):
    from chalicelib.adapters.telegram_dry_run import DryRunGifts
    from chalicelib.config import load_settings
    from chalicelib.container import Container
    from devstack.localenv import Ports, local_environment

    monkeypatch.setenv("TGSHOP_SANDBOX", "off")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", REAL_TOKEN)
    monkeypatch.delenv("TGSHOP_REAL_GIFTS", raising=False)
    ports = Ports(15000, 18000, 18081)
    settings = load_settings(local_environment(ports))
    assert settings.gifts_dry_run and settings.aws_endpoint_url == ports.aws_url
    assert isinstance(Container(settings).telegram, DryRunGifts)
    monkeypatch.setenv("TGSHOP_REAL_GIFTS", "yes")
    assert not load_settings(local_environment(ports)).gifts_dry_run
