"""Running the app in process against emulated AWS, for benchmarks.

    with Emulator() as emulator:                     # the local stack's emulator on a free port
        with Stack(emulator) as stack:               # tables/queues from infra/, settings seeded,
            response = stack.create_order(1001)      # a Container, the Telegram sandbox in process and
            stack.pay(response.json_body)            # chalice.test.Client(app)
            stack.drain("delivery", "deliver_orders")

Several stacks may share one emulator; give each its own `prefix` (and its own `env` overrides, e.g.
`{"AMOUNT_SURCHARGE_CAP": "0.009"}`). Stacks share the process-wide pynamodb binding, so use one at a time.
Timing helpers at the bottom: `timed`, `Stats.of(samples)` (median, p99), `ms`, `md_table`.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from devstack.localenv import free_ports

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"

# Clearly fake values, like the local stage's.
BOT_TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnop"
PAYMENT_SECRET = "bench-payment-secret"
USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
ADDRESSES = ("TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt", "TGwce4B39QH7SywH6xi2B27r4GU8b5FyL2")
STRANGER_ADDRESS = "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p"

BENCH_ENV: dict[str, str] = {
    "STAGE": "bench",
    "RESOURCE_PREFIX": "tgshop-bench",
    "AWS_REGION": REGION,
    "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
    "TELEGRAM_WEBHOOK_SECRET": "bench-webhook-secret",
    "PAYMENT_WEBHOOK_SECRET": PAYMENT_SECRET,
    "ADMIN_API_KEY": "bench-admin-key",
    "CODE_SECRET_KEY": "bench-code-secret",
    "ADMIN_CHAT_ID": "999",
    "PAYMENT_ADDRESSES": ADDRESSES[0],
    "TELEGRAM_API_BASE_URL": "http://sandbox",
    "POWERTOOLS_METRICS_NAMESPACE": "tgshop-bench",
    # The sandbox answers in process; should it fail, retries must not stretch a benchmark by minutes.
    "TELEGRAM_RETRY_BUDGET_SECONDS": "2",
}

# Only emulated AWS: fake credentials, no profile, no tracing daemon.
_PROCESS_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
                "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "POWERTOOLS_TRACE_DISABLED": "true"}


def prepare_process_env() -> None:
    os.environ.update(_PROCESS_ENV)
    os.environ.pop("AWS_PROFILE", None)


# ---------------------------------------------------------------------------------------------- emulator
class Emulator:
    """The local stack's emulator (`devstack/emulator.py`: moto, its DynamoDB requests applied one at a time and
    its transactions backing up only the items they name) on 127.0.0.1 and a free port, in this process. Every
    section runs on that one emulator, whichever sections ran before it in the process."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._clients: dict[str, Any] = {}

    def start(self) -> "Emulator":
        from devstack.emulator import AtomicMotoServer

        prepare_process_env()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per emulated call
        os.environ["AWS_ENDPOINT_URL"] = self.url  # a stray client still lands on the emulator
        self._server = AtomicMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.reset()
        return self

    def reset(self) -> None:
        """Forget every table, queue and item: moto's state is per process, shared by all emulators."""
        import urllib.request

        # After a section that left much state (the cold path's thousands of orders), moto takes a while to drop it.
        reset = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=120).close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if os.environ.get("AWS_ENDPOINT_URL") == self.url:
            os.environ.pop("AWS_ENDPOINT_URL")

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        """A boto3 client on the emulator (one per service, reused)."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service, region_name=REGION, endpoint_url=self.url)
        return self._clients[service]


# ---------------------------------------------------------------------------------------------- clock
class SettableClock:
    """Real time unless moved: `advance(minutes=91)` shifts every later reading."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0) if start is None else start - datetime.now(timezone.utc)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset

    def advance(self, **delta: float) -> None:
        self._offset += timedelta(**delta)


# ---------------------------------------------------------------------------------------------- stack
class Stack:
    """The app in process: a Container on the emulator, the Telegram sandbox, chalice.test.Client."""

    def __init__(self, emulator: Emulator, prefix: str = "tgshop-bench", env: Mapping[str, str] | None = None,
                 clock: Any = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.emulator = emulator
        self.prefix = prefix
        self.env = {**BENCH_ENV, "RESOURCE_PREFIX": prefix, "AWS_ENDPOINT_URL": emulator.url, **(env or {})}
        self.clock = clock or SettableClock()
        self.sleep = sleep  # real by default: rate limiters and retries wait as they would in Lambda
        self.container: Any = None
        self.client: Any = None
        self.sandbox: Any = None
        self.queue_urls: dict[str, str] = {}
        self._client_cm: Any = None

    def start(self) -> "Stack":
        import httpx
        from chalice.test import Client

        from app import app
        from chalicelib.config import load_settings
        from chalicelib.container import Container, set_container
        from devstack.infra import create_resources, seed_defaults
        from devstack.sandbox import create_sandbox_app

        self.queue_urls = create_resources(self.emulator.client("dynamodb"), self.emulator.client("sqs"),
                                           self.prefix, REGION)
        self.sandbox = create_sandbox_app()
        self.container = Container(load_settings(self.env), telegram_transport=httpx.WSGITransport(app=self.sandbox),
                                   clock=self.clock, sleep=self.sleep)
        set_container(self.container)
        seed_defaults(self.container)
        self._client_cm = Client(app, project_dir=str(REPO_ROOT))
        self.client = self._client_cm.__enter__()
        return self

    def close(self) -> None:
        from chalicelib.container import set_container

        if self._client_cm is not None:
            self._client_cm.__exit__(None, None, None)
            self._client_cm = None
        set_container(None)

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -------------------------------------------------------------------------------- helpers
    @property
    def sandbox_state(self) -> Any:
        return self.sandbox.extensions["sandbox"]

    def buyer_headers(self, user_id: int = 1001, **extra: str) -> dict[str, str]:
        from chalicelib.domain.signatures import build_init_data

        init_data = build_init_data(BOT_TOKEN, {"id": user_id, "first_name": f"User{user_id}",
                                                "language_code": "en"}, int(self.clock.now().timestamp()))
        return {"X-Telegram-Init-Data": init_data, "Content-Type": "application/json", **extra}

    def create_order(self, user_id: int = 1001, product_id: str = "premium_3m", **body: Any) -> Any:
        """POST /orders; returns the chalice test response (`.status_code`, `.json_body`)."""
        return self.client.http.post("/orders", headers=self.buyer_headers(user_id),
                                     body=json.dumps({"product_id": product_id, **body}))

    def transfer(self, amount: str, to: str, tx: str | None = None, confirmed: bool = True) -> dict:
        value = int(Decimal(amount) * 1_000_000)
        return {"transaction_id": tx or secrets.token_hex(32),
                "token_info": {"symbol": "USDT", "address": USDT_CONTRACT, "decimals": 6},
                "block_timestamp": int(self.clock.now().timestamp() * 1000), "from": STRANGER_ADDRESS, "to": to,
                "type": "Transfer", "value": str(value), "confirmed": confirmed}

    def signed_post(self, path: str, body: dict) -> Any:
        from chalicelib.domain.signatures import sign_payload

        raw = json.dumps(body)
        signature = sign_payload(PAYMENT_SECRET, int(self.clock.now().timestamp()), raw.encode())
        return self.client.http.post(path, body=raw, headers={"Content-Type": "application/json",
                                                              "X-Signature": signature})

    def pay(self, order: dict, tx: str | None = None, amount: str | None = None) -> Any:
        """POST a signed TRC20 webhook paying `order` (a POST /orders answer) exactly."""
        return self.signed_post("/webhooks/payments/trc20",
                                self.transfer(amount or order["amount"], order["pay_to"], tx))

    def drain(self, queue: str, handler: str) -> int:
        """Deliver every waiting message of a logical queue to its SQS handler (distinct message ids)."""
        from devstack.workers import drain_queue

        url = self.queue_urls[f"{self.prefix}-{queue}"]
        arn = f"arn:aws:sqs:{REGION}:123456789012:{self.prefix}-{queue}"
        return drain_queue(self.emulator.client("sqs"), url, arn,
                           lambda event: self.client.lambda_.invoke(handler, event).payload)

    def purge(self, queue: str) -> None:
        self.emulator.client("sqs").purge_queue(QueueUrl=self.queue_urls[f"{self.prefix}-{queue}"])

    def run_schedule(self, handler: str) -> Any:
        """Invoke a scheduled handler once, as EventBridge would."""
        event = self.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event",
                                                     detail={}, resources=[], region=REGION)
        event["id"] = str(uuid.uuid4())
        return self.client.lambda_.invoke(handler, event).payload


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Logs and EMF metrics are still formatted (that is part of the cost) but go nowhere."""
    from chalicelib.observability import logger

    handler = logger.registered_handler
    previous = getattr(handler, "stream", None)
    try:
        if previous is not None:
            handler.setStream(_NullWriter())
        with contextlib.redirect_stdout(_NullWriter()):
            yield
    finally:
        if previous is not None:
            handler.setStream(previous)


class _NullWriter(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


# ---------------------------------------------------------------------------------------------- timing
def timed(work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = work(*args, **kwargs)
    return time.perf_counter() - start, result


def p99(samples: Sequence[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


@dataclass(frozen=True)
class Stats:
    n: int
    median: float
    p99: float
    mean: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> "Stats":
        return cls(len(samples), statistics.median(samples), p99(samples), statistics.fmean(samples),
                   min(samples), max(samples))


def ms(seconds: float, places: int = 1) -> str:
    return f"{seconds * 1000:.{places}f} ms"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(header) for header in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def progress(message: str) -> None:
    """Progress goes to stderr; stdout may be silenced while the app runs."""
    import sys

    print(f"[bench] {message}", file=sys.stderr, flush=True)
