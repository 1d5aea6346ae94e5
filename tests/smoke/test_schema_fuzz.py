"""Schema-driven fuzzing of the real local stack: schemathesis generates requests from /openapi.json (valid
and invalid ones) for every operation, each signed the way its callers sign it, and every answer must not be
a 5xx and must match its documented status, content type and schema. Bounded: FUZZ_EXAMPLES cases per
operation (TGSHOP_FUZZ_EXAMPLES overrides it), with no shrinking and no example database."""
from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                              status_code_conformance)
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from tests.local_stack import START_TIMEOUT, LocalStack

pytestmark = pytest.mark.smoke

FUZZ_EXAMPLES = int(os.environ.get("TGSHOP_FUZZ_EXAMPLES", "30"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class Callers:
    """Credentials for each security scheme of the document, from the local stage's settings."""

    def __init__(self, api: str) -> None:
        from devstack.localenv import stage_environment

        import httpx

        environment = stage_environment()
        self.bot_token = environment["TELEGRAM_BOT_TOKEN"]
        self.webhook_secret = environment["TELEGRAM_WEBHOOK_SECRET"]
        self.payment_secret = environment["PAYMENT_WEBHOOK_SECRET"].split(",")[0]
        self.admin_key = environment["ADMIN_API_KEY"]
        created = httpx.post(f"{api}/admin/distributors", json={"name": "Fuzz"}, timeout=10,
                             headers={"X-Api-Key": self.admin_key})
        assert created.status_code == 201, created.text
        self.distributor_token = created.json()["token"]

    def headers(self, scheme: str | None, raw_body: bytes) -> dict[str, str]:
        from chalicelib.domain.signatures import build_init_data, sign_payload

        now = int(time.time())
        if scheme == "buyer":
            user = {"id": 1001, "first_name": "Fuzz", "language_code": "en"}
            return {"X-Telegram-Init-Data": build_init_data(self.bot_token, user, now)}
        if scheme == "distributor":
            return {"Authorization": f"Bearer {self.distributor_token}"}
        if scheme == "admin":
            return {"X-Api-Key": self.admin_key}
        if scheme == "telegram":
            return {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
        if scheme == "payments":
            return {"X-Signature": sign_payload(self.payment_secret, now, raw_body)}
        return {}


@pytest.fixture(scope="module")
def stack():
    started = LocalStack()
    started.wait_until(started.healthy, START_TIMEOUT, "/health")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def callers(stack):
    return Callers(stack.api)


@pytest.fixture(scope="module")
def api_schema(stack):
    loaded = schemathesis.openapi.from_url(f"{stack.api}/openapi.json")
    loaded.config.update(base_url=stack.api)
    return loaded


def send(case: Any, stack: LocalStack, callers: Callers) -> None:
    """One generated request, signed for its operation's caller, and its answer checked."""
    import requests

    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=stack.api)
    if "json" in kwargs:  # serialized here, so the payment signature covers the exact bytes sent
        kwargs["data"] = json.dumps(kwargs.pop("json")).encode()
        kwargs["headers"] = {"Content-Type": "application/json", **(kwargs.get("headers") or {})}
    raw = kwargs.get("data") if isinstance(kwargs.get("data"), bytes) else b""
    security = case.operation.definition.raw.get("security") or [{}]
    scheme = next(iter(security[0]), None)
    kwargs["headers"] = {**(kwargs.get("headers") or {}), **callers.headers(scheme, raw)}
    response = requests.request(**kwargs, timeout=30)
    case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)


def describe(error: BaseException) -> str:
    """The error and, for a group (hypothesis reports a flaky failure as one), each error inside it."""
    parts = [f"{type(error).__name__}: {error}"]
    for inner in getattr(error, "exceptions", ()):
        parts.append(describe(inner))
    if error.__cause__ is not None:
        parts.append(describe(error.__cause__))
    return "\n".join(parts)


def test_no_5xx_and_every_answer_matches_its_schema(stack, callers, api_schema):
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable

    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    from app import app
    from chalicelib.api.openapi import build_document

    expected = {f"{method.upper()} {path}" for path, methods in build_document(app, "x")["paths"].items()
                for method in methods}
    # schemathesis leaves out the operation that serves the document it was loaded from
    assert {operation.label for operation in operations} == expected - {"GET /openapi.json"}
    for operation, mode in [(operation, mode) for operation in operations for mode in GenerationMode]:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            send(case, stack, callers)

        try:
            fuzz()
        except Unsatisfiable:  # nothing to get wrong: no parameters and no body (GET /health in negative mode)
            continue
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - one report names every failing operation
            failures[f"{operation.label} ({mode.value})"] = describe(error)[-3000:]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
