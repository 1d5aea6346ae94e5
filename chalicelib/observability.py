"""The one Logger, Metrics and Tracer of the service, and the secret masking every log line goes through."""
from __future__ import annotations

import contextlib
import logging
import os
import re
from functools import lru_cache
from typing import Any, ContextManager, Iterable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.cold_start import in_lambda

SERVICE_NAME = "tgshop"
MASK = "***"

# Header names whose values are credentials, in any JSON rendering of a log record.
_SECRET_HEADER = re.compile(
    r'(?i)("(?:authorization|x-api-key|x-signature|x-telegram-init-data|x-telegram-bot-api-secret-token'
    r'|x-[a-z0-9-]*secret[a-z0-9-]*|[a-z0-9_-]*signature[a-z0-9_-]*|cookie)"\s*:\s*)"(?:[^"\\]|\\.)*"'
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_BOT_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{8,}\b")


class SecretMasker:
    """Replaces known secret values and credential-shaped strings with a mask."""

    def __init__(self) -> None:
        self._known: list[str] = []

    def register(self, secrets: Iterable[str]) -> None:
        # Longest first so a secret containing another is masked whole.
        known = set(self._known) | {secret for secret in secrets if secret and len(secret) >= 4}
        self._known = sorted(known, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._known:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _SECRET_HEADER.sub(lambda match: f'{match.group(1)}"{MASK}"', text)
        text = _BEARER.sub(lambda match: f"{match.group(1)} {MASK}", text)
        return _BOT_TOKEN.sub(MASK, text)


secret_masker = SecretMasker()


class MaskingFormatter(LambdaPowertoolsFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return secret_masker.mask(super().format(record))


class _MaskingFilter(logging.Filter):
    """For third-party loggers (httpx prints request URLs, which carry the bot token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = secret_masker.mask(record.getMessage())
        record.args = None
        return True


logger = Logger(service=SERVICE_NAME, logger_formatter=MaskingFormatter())
metrics = Metrics(service=SERVICE_NAME)


@lru_cache(maxsize=1)
def tracing_enabled() -> bool:
    """Powertools' own rule, read without loading the X-Ray SDK: off when POWERTOOLS_TRACE_DISABLED is true,
    and outside Lambda."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("1", "y", "yes", "t", "true", "on"):
        return False
    return in_lambda()


@lru_cache(maxsize=1)
def tracer():
    """The Tracer, built on first traced use. It patches botocore only (pynamodb and boto3 both go through it);
    Powertools' default, every library the X-Ray SDK knows, imports each of them just to look."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE_NAME, patch_modules=("botocore",))


def trace_segment(name: str) -> ContextManager[Any]:
    """A subsegment around one invocation's work; nothing at all (no X-Ray SDK) when tracing is off."""
    if not tracing_enabled():
        return contextlib.nullcontext()
    return tracer().provider.in_subsegment(name)


def trace_http_clients() -> None:
    """Called before the first httpx client is built: its calls then show up in the trace too."""
    if tracing_enabled():
        tracer()
        from aws_xray_sdk.core import patch

        patch(("httpx",))

for _noisy in ("httpx", "httpcore", "botocore", "pynamodb"):
    logging.getLogger(_noisy).addFilter(_MaskingFilter())
    logging.getLogger(_noisy).setLevel(logging.WARNING)

_cold_start = True


def configure(namespace: str, secrets: Iterable[str]) -> None:
    """Called once the settings are known (first invocation of a container)."""
    metrics.provider.namespace = namespace
    secret_masker.register(secrets)


def take_cold_start() -> bool:
    global _cold_start
    was_cold, _cold_start = _cold_start, False
    return was_cold


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
