"""Where the local stack listens and the environment its code runs with.

The environment is the `local` stage of .chalice/config.json, exactly as `chalice local` would set it,
with the emulator and sandbox URLs moved to the ports chosen through TGSHOP_*_PORT.
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_DIR / ".chalice" / "config.json"
STAGE = "local"
HOST = "127.0.0.1"

PORT_VARIABLES = {"aws": ("TGSHOP_AWS_PORT", 5000), "api": ("TGSHOP_API_PORT", 8000),
                  "sandbox": ("TGSHOP_SANDBOX_PORT", 8081)}


class StackError(Exception):
    """A problem the person starting the stack can fix; printed without a traceback."""


@dataclass(frozen=True)
class Ports:
    aws: int
    api: int
    sandbox: int

    @property
    def aws_url(self) -> str:
        return f"http://{HOST}:{self.aws}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{HOST}:{self.sandbox}"

    def as_environment(self) -> dict[str, str]:
        return {variable: str(getattr(self, part)) for part, (variable, _) in PORT_VARIABLES.items()}


def resolve_ports(environ: Mapping[str, str] | None = None) -> Ports:
    environ = os.environ if environ is None else environ
    chosen: dict[str, int] = {}
    for part, (variable, default) in PORT_VARIABLES.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            chosen[part] = default
            continue
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise StackError(f"{variable}={raw!r} is not a TCP port (1-65535)")
        chosen[part] = int(raw)
    if len(set(chosen.values())) != len(chosen):
        raise StackError("TGSHOP_AWS_PORT, TGSHOP_API_PORT and TGSHOP_SANDBOX_PORT must differ: "
                         + ", ".join(f"{PORT_VARIABLES[part][0]}={port}" for part, port in chosen.items()))
    return Ports(**chosen)


def ensure_free(ports: Ports, parts: tuple[str, ...] = ("aws", "api", "sandbox")) -> None:
    """Fail fast, naming the port and the variable that moves it, if something already listens there."""
    for part in parts:
        port = getattr(ports, part)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # The servers set SO_REUSEADDR too, so a socket in TIME_WAIT is not "taken".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            variable = PORT_VARIABLES[part][0]
            raise StackError(f"port {port} on {HOST} is already in use; stop whatever listens there or pick "
                             f"another port with {variable}=<port>") from None
        finally:
            probe.close()


def is_listening(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def load_config() -> dict:
    return json.loads(CONFIG_PATH.read_text())


def function_config(function_name: str = "api_handler") -> object:
    """Chalice's own view of the local stage (timeouts, memory, environment) for one function."""
    from chalice.config import Config

    return Config(chalice_stage=STAGE, function_name=function_name, config_from_disk=load_config())


def stage_environment() -> dict[str, str]:
    """What `chalice local --stage local` puts into os.environ: top-level then stage variables."""
    return {key: str(value) for key, value in function_config().environment_variables.items()}


def port_overrides(ports: Ports) -> dict[str, str]:
    from devstack.telegram_poller import real_bot_overrides

    # TGSHOP_SANDBOX=off with a real TELEGRAM_BOT_TOKEN: the app talks to Telegram (devstack/telegram_poller.py).
    real_bot = real_bot_overrides(os.environ)
    # The storefront is served by the local API; only the sandbox opens an http:// Mini App (Telegram wants https).
    store = {} if real_bot else {"MINIAPP_URL": f"{ports.api_url}/store"}
    return {"AWS_ENDPOINT_URL": ports.aws_url, "TELEGRAM_API_BASE_URL": ports.sandbox_url, **store, **real_bot}


def local_environment(ports: Ports) -> dict[str, str]:
    return {**stage_environment(), **port_overrides(ports)}


def apply_local_environment(ports: Ports) -> dict[str, str]:
    """Put the local stage's environment into this process, before anything reads its settings."""
    environment = local_environment(ports)
    # The emulator takes the stage's fake keys; a real profile or session token must not leak into it.
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(variable, None)
    os.environ.update(environment)
    os.environ.update(ports.as_environment())
    return environment


def free_ports(count: int) -> list[int]:
    """`count` distinct ports nobody listens on right now (held open together so they differ)."""
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind((HOST, 0))
            probes.append(probe)
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()
