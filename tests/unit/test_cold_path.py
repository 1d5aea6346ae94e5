"""What a cold container builds: tracing only when it is on, one botocore session and one DynamoDB client."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import observability
from tests.support import TEST_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]


def in_a_fresh_interpreter(code: str, env: dict[str, str] | None = None) -> str:
    """What `code` prints when a new interpreter runs it in the repository: what a cold container loads."""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env={**os.environ} if env is None else env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def tracing_env(monkeypatch):
    for name in ("POWERTOOLS_TRACE_DISABLED", "LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    observability.tracing_enabled.cache_clear()
    yield monkeypatch
    observability.tracing_enabled.cache_clear()


@pytest.mark.parametrize("env, enabled", [
    ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
    ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
    ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "0"}, True),
    ({}, False),                                                    # outside Lambda
    ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
    ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"}, False),
])
def test_tracing_follows_powertools_rule(tracing_env, env, enabled):
    for name, value in env.items():
        tracing_env.setenv(name, value)
    assert observability.tracing_enabled() is enabled


def test_importing_the_app_loads_no_heavy_package():
    """Every Lambda imports app.py at init: models, clients and the SDKs wait for the request that needs them."""
    heavy = ("pydantic", "pynamodb", "botocore.session", "boto3", "httpx", "tenacity", "aws_xray_sdk", "jinja2")
    code = f"import sys, app; print(sorted(set(sys.modules) & set({heavy!r})))"
    env = {**os.environ, "LAMBDA_TASK_ROOT": str(REPO_ROOT)}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    assert in_a_fresh_interpreter(code, env) == "[]"


def test_tracing_off_loads_no_xray_sdk():
    code = ("import sys; from chalicelib import observability as o\n"
            "with o.trace_segment('## GET /health'): pass\n"
            "o.trace_http_clients()\n"
            "print(sorted(m for m in sys.modules if m.startswith(('aws_xray_sdk', 'wrapt'))))")
    env = {**os.environ, "LAMBDA_TASK_ROOT": str(REPO_ROOT), "POWERTOOLS_TRACE_DISABLED": "true"}
    assert in_a_fresh_interpreter(code, env) == "[]"


def test_tracing_on_patches_botocore_only_until_telegram_is_used():
    code = ("from chalicelib import observability as o\n"
            "from aws_xray_sdk.core import patcher\n"
            "with o.trace_segment('## GET /health'): pass\n"
            "first = sorted(patcher._PATCHED_MODULES)\n"
            "o.trace_http_clients()\n"
            "print(first, sorted(patcher._PATCHED_MODULES))")
    env = {**os.environ, "LAMBDA_TASK_ROOT": str(REPO_ROOT), "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
           "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    assert in_a_fresh_interpreter(code, env) == "['botocore'] ['botocore', 'httpx']"


def test_every_model_shares_one_connection_and_every_client_one_session():
    from chalicelib.adapters import aws
    from chalicelib.adapters.dynamodb import models

    models.bind("tgshop-unit", "us-east-1", "http://127.0.0.1:1")
    shared = models.OrderItem._get_connection().connection
    assert {id(model._get_connection().connection) for model in models.ALL_MODELS} == {id(shared)}
    assert shared.session is aws.botocore_session() and models.connection().session is aws.botocore_session()
    assert shared.client is shared.client          # built once (no socket: clients connect on first call)
    assert aws.client("sqs", "us-east-1", "http://127.0.0.1:1") is aws.client("sqs", "us-east-1", "http://127.0.0.1:1")


def test_one_failed_record_comes_back_alone():
    from chalice.app import SQSEvent

    from chalicelib.api.consumers import process_batch

    records = [{"messageId": "m1", "body": '{"order_id": "a"}'}, {"messageId": "m2", "body": "not json"},
               {"messageId": "m3", "body": '{"order_id": "boom"}'}, {"messageId": "m4", "body": '{"order_id": "b"}'}]
    handled = []

    def handle(body):
        if body["order_id"] == "boom":
            raise RuntimeError("a failure of this record only")
        handled.append(body["order_id"])

    result = process_batch(SQSEvent({"Records": records}, None), handle)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}
    assert handled == ["a", "b"]


def test_one_premium_order_builds_no_other_product_or_payment_method():
    """Paying and delivering one Premium order looks its product and its method up by kind and name: a cold
    container builds those registry entries only and imports no other product's or method's module."""
    code = ("import sys\n"
            "from chalicelib.config import load_settings\n"
            "from chalicelib.container import Container\n"
            "from tests.support import TEST_ENV\n"
            "container = Container(load_settings(TEST_ENV))\n"
            "products, methods = container.products, container.payment_methods\n"
            "products.settles_to('PREMIUM_GIFT', 'user:1', 'USDT'), products.queue_of('PREMIUM_GIFT')\n"
            "products.by_kind('PREMIUM_GIFT').notices, methods.get('trc20')\n"
            "print(sorted(products.built_kinds()), sorted(methods.built_names()))\n"
            "print(sorted(name for name in sys.modules\n"
            "             if name.startswith(('chalicelib.domain.products.', 'chalicelib.domain.payment_methods.'))))")
    built, imported = in_a_fresh_interpreter(code).splitlines()
    assert built == "['PREMIUM_GIFT'] ['trc20']"
    assert imported == ("['chalicelib.domain.payment_methods.trc20', 'chalicelib.domain.products.premium']")


def test_a_registry_builds_an_entry_on_its_first_lookup_and_checks_its_kind():
    from chalicelib.domain.products import Product, ProductRegistry

    class Gift(Product):
        kind = "GIFT"

    builds = []
    registry = ProductRegistry(built_on_lookup={"GIFT": lambda: builds.append(1) or Gift(), "OTHER": Gift})
    assert builds == [] and registry.built_kinds() == frozenset()
    assert registry.by_kind("GIFT") is registry.by_kind("GIFT") and builds == [1]
    with pytest.raises(ValueError, match="registered as kind 'OTHER' is of kind 'GIFT'"):
        registry.by_kind("OTHER")


def test_a_start_builds_the_menu_flow_only():
    """A cold `/start` shows the menu: the buying, wallet, redeem and TRON flows, the shop behind them and every
    product wait for the update that needs them."""
    code = ("import sys\n"
            "from datetime import datetime, timezone\n"
            "from chalicelib.bot.updates import parse_update\n"
            "from chalicelib.config import load_settings\n"
            "from chalicelib.container import Container\n"
            "from chalicelib.domain.ports.bot import ChatState\n"
            "from tests.support import TEST_ENV\n"
            "from tests.telegram_updates import message_update, user_json\n"
            "conversation = Container(load_settings(TEST_ENV)).bot._conversation\n"
            "update = parse_update(message_update(user_json(1001, first_name='Ann'), '/start'))\n"
            "calls = conversation.handle(update, ChatState(1001, language='en'), datetime.now(timezone.utc))\n"
            "print([call.method for call in calls])\n"
            "print(sorted(name for name in sys.modules if name.startswith(('chalicelib.bot.flows.', "
            "'chalicelib.bot.shop', 'chalicelib.bot.tron_shop', 'chalicelib.domain.products.', "
            "'chalicelib.domain.payment_methods.', 'chalicelib.domain.redemptions'))))")
    methods, imported = in_a_fresh_interpreter(code).splitlines()
    assert methods == "['sendMessage']"
    assert imported == "['chalicelib.bot.flows.menu']"


def test_the_answer_views_load_no_code_pack():
    """A buyer's order read maps its answer with the views module: the code-pack product (and the gifting,
    notices and distributors behind it) loads only for a code-pack view, and the codes only for a code's."""
    code = ("import sys, app, chalicelib.api.views, chalicelib.api.buyers\n"
            "print(sorted(name for name in sys.modules\n"
            "             if name.startswith('chalicelib.domain.products.') or name == 'chalicelib.domain.codes'))")
    assert in_a_fresh_interpreter(code) == "[]"


@pytest.mark.parametrize("module", ["bot_texts", "payment_addresses"])
def test_the_settings_every_buyer_reads_load_no_ledger_or_distributors(module):
    """The bot's texts (read on every update) and the payment addresses (every payment) name the admin caller,
    the distributors and the panel's ledger reads in type hints only: those load with their own routes."""
    code = (f"import sys, chalicelib.domain.{module}\n"
            "print([name for name in ('chalicelib.domain.distributors', 'chalicelib.domain.ledger') "
            "if name in sys.modules])")
    assert in_a_fresh_interpreter(code) == "[]"


def test_a_delivery_loads_no_distributors():
    """A buyer's notices read users through the people port, which names the distributors in type hints only."""
    code = ("import sys, app\n"
            "from chalicelib.container import Container\n"
            "from chalicelib.config import load_settings\n"
            "from tests.support import TEST_ENV\n"
            "container = Container(load_settings(TEST_ENV))\n"
            "container.fulfilment, container.payments\n"
            "print('chalicelib.domain.distributors' in sys.modules)")
    assert in_a_fresh_interpreter(code) == "False"


_COLLECTION_PROBE = """
import gc, json
import app
from chalice.test import Client
states = {"after_import": gc.isenabled()}
with Client(app.app) as client:
    answer = client.http.post("/admin/distributors", headers={"content-type": "text/plain"}, body=b"x")
states.update(status=answer.status_code, after_first=gc.isenabled(), frozen=gc.get_freeze_count())
kept_alive = [[] for _ in range(5000)]
with Client(app.app) as client:
    client.http.post("/admin/distributors", headers={"content-type": "text/plain"}, body=b"x")
states.update(after_second=gc.isenabled(), frozen_again=gc.get_freeze_count())
print(json.dumps(states))
"""


@pytest.mark.parametrize("in_lambda, configured, status", [
    (True, True, 415),
    (True, False, 500),     # a start that fails on its settings still resumes collection
    (False, True, 415),
])
def test_the_collector_waits_for_the_first_invocation_in_lambda_only(in_lambda, configured, status):
    """In Lambda the cold start builds its objects with the collector held; the first invocation's end freezes
    them and resumes collection. Anywhere else the collector is never touched."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE", *TEST_ENV)}
    if in_lambda:
        env["LAMBDA_TASK_ROOT"] = str(REPO_ROOT)
    if configured:
        env.update(TEST_ENV)
    env["POWERTOOLS_TRACE_DISABLED"] = "true"
    states = json.loads(in_a_fresh_interpreter(_COLLECTION_PROBE, env).splitlines()[-1])
    assert states["status"] == status
    assert states["after_import"] is not in_lambda
    assert states["after_first"] is True and states["after_second"] is True
    if in_lambda:
        assert states["frozen"] > 50_000          # the container's long-lived objects, left out of later collections
        assert states["frozen_again"] < states["frozen"] + 5000  # only the first invocation freezes
    else:
        assert states["frozen"] == 0 and states["frozen_again"] == 0
