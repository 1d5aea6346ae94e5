"""The whole local stack in one process tree: AWS emulator, API, SQS workers, scheduler, Telegram sandbox.

    runner process (python -m devstack run)
      |- AWS emulator (moto threaded server)            127.0.0.1:TGSHOP_AWS_PORT      (5000)
      |- Telegram sandbox (Flask, thread)                127.0.0.1:TGSHOP_SANDBOX_PORT  (8081)
      |- one SQS worker thread per on_sqs_message handler, and the scheduler thread,
      |  invoking the app's handlers in this process, one invocation at a time
      `- child: python -m devstack.api (chalice local)   127.0.0.1:TGSHOP_API_PORT      (8000)
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from devstack.localenv import (HOST, PROJECT_DIR, STAGE, Ports, StackError, apply_local_environment, ensure_free,
                               is_listening, stage_environment)

log = logging.getLogger("devstack")

API_START_TIMEOUT_SECONDS = 45.0
SHUTDOWN_GRACE_SECONDS = 5.0
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET", "ADMIN_API_KEY",
                    "CODE_SECRET_KEY")


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[devstack] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    # One line per emulator long poll or sandbox request would drown the app's own logs.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class LocalStack:
    """Starts the parts in order and stops whatever was started, in reverse order."""

    def __init__(self, ports: Ports, *, with_app: bool = True) -> None:
        self.ports = ports
        self.with_app = with_app
        self.environment: dict[str, str] = {}
        self.emulator: Any = None
        self.sandbox: Any = None
        self.tron_node: Any = None
        self.api_process: subprocess.Popen | None = None
        self.threads: list[threading.Thread] = []
        self.stop_event = threading.Event()
        self.invoke_lock = threading.Lock()  # one Lambda invocation at a time in this process
        self.queue_urls: dict[str, str] = {}
        self.workers: list[tuple[str, str]] = []
        self.jobs: list[tuple[str, str]] = []
        self.real_bot: Any = None
        self.poller: Any = None
        self.published: Any = None  # what other shells were told (devstack/runstate.py)

    @property
    def prefix(self) -> str:
        return self.environment["RESOURCE_PREFIX"]

    @property
    def region(self) -> str:
        return self.environment.get("AWS_REGION", "us-east-1")

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        from devstack.telegram_poller import prepare_real_bot, real_bot_from

        self.real_bot = real_bot_from(os.environ) if self.with_app else None  # TGSHOP_SANDBOX=off
        parts = ("aws", "api", "sandbox") if self.with_app and not self.real_bot else \
            ("aws", "api") if self.with_app else ("aws",)
        ensure_free(self.ports, parts)
        if self.real_bot:
            prepare_real_bot(self.real_bot)  # before anything starts: a webhook may stop us here
        self.environment = apply_local_environment(self.ports)
        self._start_emulator()
        if self.with_app:
            self._start_tron_node()  # before the API: it reads the node's URL from the environment
            self._spawn_api()  # imports in parallel with the bootstrap below
            if not self.real_bot:
                self._start_sandbox()
        self._bootstrap()
        if self.with_app:
            self._start_workers_and_scheduler()
            self._wait_for_api()
            if self.real_bot:
                self._start_poller()
        self._publish()

    def _publish(self) -> None:
        from devstack.runstate import RunningStack, publish

        self.published = RunningStack(os.getpid(), self.ports, self.with_app, bool(self.real_bot))
        publish(self.published)

    def _start_poller(self) -> None:
        from devstack.telegram_poller import start_poller

        self.poller = start_poller(self.real_bot.token, f"{self.ports.api_url}/telegram/webhook",
                                   self.environment["TELEGRAM_WEBHOOK_SECRET"], stop=self.stop_event,
                                   api_base_url=self.real_bot.api_base_url,
                                   delete_webhook=self.real_bot.delete_webhook)
        self.threads.append(self.poller)

    def _start_emulator(self) -> None:
        from devstack.emulator import AtomicMotoServer

        server = AtomicMotoServer(ip_address=HOST, port=self.ports.aws, verbose=False)
        try:
            server.start()
        except OSError as error:
            raise StackError(f"the AWS emulator cannot listen on {HOST}:{self.ports.aws} ({error}); "
                             "pick another port with TGSHOP_AWS_PORT=<port>") from None
        self.emulator = server

    def _client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=self.region, endpoint_url=self.ports.aws_url)

    def _bootstrap(self) -> None:
        """Tables and queues from infra/resources.yaml, then the default live settings."""
        from chalicelib.config import load_settings
        from chalicelib.container import Container, set_container
        from devstack.infra import create_resources, seed_defaults

        self.queue_urls = create_resources(self._client("dynamodb"), self._client("sqs"), self.prefix, self.region)
        container = Container(load_settings(os.environ))
        seed_defaults(container)
        if self.with_app:
            set_container(container)  # the in-process workers and schedules use the same container

    def _start_sandbox(self) -> None:
        from devstack.sandbox import serve_sandbox

        try:
            self.sandbox = serve_sandbox(
                HOST, self.ports.sandbox, webhook_target=f"{self.ports.api_url}/telegram/webhook",
                webhook_secret=self.environment["TELEGRAM_WEBHOOK_SECRET"],
                payment_target=f"{self.ports.api_url}/webhooks/payments/trc20",
                payment_secret=self.environment["PAYMENT_WEBHOOK_SECRET"].split(",")[0].strip(),
                **({"usdt_contract": self.environment["USDT_CONTRACT"]} if self.environment.get("USDT_CONTRACT")
                   else {}))
        except OSError as error:
            raise StackError(f"the Telegram sandbox cannot listen on {HOST}:{self.ports.sandbox} ({error}); "
                             "pick another port with TGSHOP_SANDBOX_PORT=<port>") from None
        from devstack.telegram_admin import set_menu_button
        set_menu_button(self.environment["MINIAPP_URL"], self.environment)   # as `make set-webhook` does

    def _start_tron_node(self) -> None:
        from devstack.tron_node.local import serve_local_node

        port = int(os.environ.get("TGSHOP_TRON_PORT", "8091"))
        try:
            self.tron_node = serve_local_node(HOST, port)
        except OSError as error:
            raise StackError(f"the fake TRON node cannot listen on {HOST}:{port} ({error}); "
                             "pick another port with TGSHOP_TRON_PORT=<port>") from None
        os.environ["TRON_NODE_URL"] = self.tron_node.url

    def _spawn_api(self) -> None:
        environment = {**os.environ, **self.ports.as_environment(), "PYTHONUNBUFFERED": "1"}
        self.api_process = subprocess.Popen(
            [sys.executable, "-m", "devstack.api", "--port", str(self.ports.api), "--parent-pid", str(os.getpid())],
            cwd=PROJECT_DIR, env=environment)

    def _start_workers_and_scheduler(self) -> None:
        if str(PROJECT_DIR) not in sys.path:
            sys.path.insert(0, str(PROJECT_DIR))
        from app import app
        from devstack.lambdas import function_settings, scheduled_jobs, sqs_sources
        from devstack.scheduler import Scheduler
        from devstack.workers import SqsWorker

        for source in sqs_sources(app, self.prefix):
            url = self.queue_urls.get(source.queue_name)
            if url is None:
                raise StackError(f"{source.name} consumes {source.queue_name}, which infra/resources.yaml "
                                 "does not define")
            timeout, memory = function_settings(source.name)
            worker = SqsWorker(self._client("sqs"), url, source.handler, function_name=source.name,
                               batch_size=source.batch_size, wait_seconds=1, timeout_seconds=timeout,
                               memory_mb=memory, stop=self.stop_event, invoke_lock=self.invoke_lock)
            worker.start()
            self.threads.append(worker)
            self.workers.append((source.name, source.queue_name))
        jobs = scheduled_jobs(app)
        if jobs:
            scheduler = Scheduler(jobs, rule_prefix=self.prefix, stop=self.stop_event, invoke_lock=self.invoke_lock,
                                  limits=function_settings)
            scheduler.start()
            self.threads.append(scheduler)
            self.jobs = [(job.name, job.expression) for job in jobs]

    def _wait_for_api(self) -> None:
        deadline = time.monotonic() + API_START_TIMEOUT_SECONDS
        while not is_listening(self.ports.api, timeout=0.2):
            if self.api_process is not None and self.api_process.poll() is not None:
                raise StackError(f"the API process exited with code {self.api_process.returncode} before "
                                 f"listening on {HOST}:{self.ports.api} (see its output above)")
            if time.monotonic() > deadline:
                raise StackError(f"the API did not listen on {HOST}:{self.ports.api} within "
                                 f"{API_START_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.1)

    # ------------------------------------------------------------------ run
    def wait(self) -> int:
        """Until Ctrl-C (KeyboardInterrupt), the API process dies or the poller gives up; the exit code."""
        while True:
            if self.api_process is not None and self.api_process.poll() is not None:
                log.error("the API process exited with code %s; stopping the stack", self.api_process.returncode)
                return 1
            if self.poller is not None and self.poller.failure is not None:
                log.error("stopping the stack: %s", self.poller.failure)
                return 1
            time.sleep(0.5)

    # ------------------------------------------------------------------ stop
    def stop(self) -> None:
        from devstack.runstate import withdraw

        if self.published is not None:
            withdraw(self.published)
        self.stop_event.set()
        process = self.api_process
        if process is not None and process.poll() is None:
            process.terminate()
        for thread in self.threads:
            thread.join(timeout=SHUTDOWN_GRACE_SECONDS)
        if process is not None:
            try:
                process.wait(timeout=SHUTDOWN_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.sandbox is not None:
            self.sandbox.shutdown()
        if self.tron_node is not None:
            self.tron_node.shutdown()
        if self.emulator is not None:
            self.emulator.stop()

    # ------------------------------------------------------------------ banner
    def banner(self) -> str:
        from devstack.examples import order_curl
        from devstack.infra import table_definitions
        from devstack.runstate import endpoint_file

        config_env = stage_environment()  # as config.json has them, before any port override
        api, aws, sandbox = self.ports.api_url, self.ports.aws_url, self.ports.sandbox_url
        tables, queues = len(table_definitions(self.prefix)), len(self.queue_urls)
        lines = ["", "tgshop local stack is up (Ctrl-C stops everything)", ""]
        if self.with_app:
            lines.append(f"  API               {api}    (chalice local, stage {STAGE!r})")
        lines.append(f"  AWS emulator      {aws}    (moto: {tables} tables, {queues} queues from "
                     f"infra/resources.yaml, prefix {self.prefix!r}, region {self.region})")
        if self.with_app:
            if self.real_bot:
                lines.append("  Telegram          your real bot, long-polled (TGSHOP_SANDBOX=off); message it from "
                             "your phone")
                lines.append("  gifts             REAL: a paid order, even a forged local payment, spends the bot's "
                             "Stars" if self.real_bot.real_gifts else
                             "  gifts             dry run: logged and announced as such, no Stars spent "
                             "(TGSHOP_REAL_GIFTS=yes to gift for real)")
            else:
                lines.append(f"  Telegram sandbox  {sandbox}/    (web chat with the bot; calls: {sandbox}/calls)")
            if self.tron_node is not None:
                lines.append(f"  TRON node (fake)  {self.tron_node.url}    (hot wallet funded; "
                             f"state: {self.tron_node.url}/_node/state)")
            for name, queue in self.workers:
                lines.append(f"  SQS worker        {name} <- {queue}")
            for name, expression in self.jobs:
                lines.append(f"  schedule          {name} {expression}    (now: make tick JOB={name})")
        lines += ["", "Local secrets (fake; .chalice/config.json stage 'local'):"]
        lines += [f"  {name}={config_env[name]}" for name in SECRET_VARIABLES if name in config_env
                  and not (self.real_bot and name == "TELEGRAM_BOT_TOKEN")]
        if self.real_bot:
            lines.append("  TELEGRAM_BOT_TOKEN: your bot's, from the environment")
        if self.with_app:
            token = self.real_bot.token if self.real_bot else config_env["TELEGRAM_BOT_TOKEN"]
            lines += ["", "Try:",
                      f"  curl {api}/health",
                      f"  curl {api}/catalog",
                      "  # an order as Telegram user 1001 (init data valid for a day):",
                      "  " + order_curl(api, token),
                      "  # then pay it: prints a curl with a valid X-Signature (valid for 5 minutes)",
                      "  .venv/bin/python -m devstack sign-payment <amount> <pay_to>"]
        else:
            where = endpoint_file().relative_to(PROJECT_DIR)
            lines += ["", "Now, in another terminal:  .venv/bin/chalice local --stage local",
                      f"  (it reads the emulator's URL, {aws}, from {where}; an exported AWS_ENDPOINT_URL wins)"]
        lines += ["", "Ports: TGSHOP_AWS_PORT, TGSHOP_API_PORT, TGSHOP_SANDBOX_PORT, TGSHOP_TRON_PORT.", ""]
        return "\n".join(lines)


def run_stack(ports: Ports, *, with_app: bool = True) -> int:
    configure_logging()
    # Explicitly, also for SIGINT: a shell starting us in the background would otherwise leave it ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    stack = LocalStack(ports, with_app=with_app)
    started = time.monotonic()
    code = 0
    try:
        stack.start()
        print(stack.banner(), flush=True)
        log.info("ready in %.1f s", time.monotonic() - started)
        code = stack.wait()
    except KeyboardInterrupt:
        pass
    except StackError as error:
        log.error("%s", error)
        code = 1
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        log.info("stopping")
        stack.stop()
        log.info("stopped")
    return code
