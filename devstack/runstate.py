"""What a running local stack tells the other shells: where it listens.

While `make run` or `make aws` runs, it keeps two files in .devstack/ (ignored by git):

- the emulator's URL, at the path the local stage names in AWS_ENDPOINT_URL_FILE (.chalice/config.json).
  The app reads it when AWS_ENDPOINT_URL is not exported, so a plain `chalice local --stage local` in
  another shell finds the emulator on whatever port it runs;
- `stack.json`: the runner's pid, its ports and whether it talks to a real bot. The helper commands
  (tick, sign-payment, init-data) use these ports unless TGSHOP_*_PORT names others.

Both go when the stack stops. A stack that was killed leaves them behind; its pid is then gone, and the
helpers ignore the file (the app cannot tell: it gets "connection refused" from the stale URL).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

from devstack.localenv import PORT_VARIABLES, PROJECT_DIR, Ports, resolve_ports, stage_environment

STATE_DIR = PROJECT_DIR / ".devstack"
STACK_FILE = "stack.json"


@dataclass(frozen=True)
class RunningStack:
    pid: int
    ports: Ports
    with_app: bool = True
    real_bot: bool = False


def endpoint_file() -> Path:
    """Where the local stage looks for the emulator's URL (relative paths are the project's)."""
    path = Path(stage_environment()["AWS_ENDPOINT_URL_FILE"])
    return path if path.is_absolute() else PROJECT_DIR / path


def _directory(directory: Path | None) -> Path:
    return STATE_DIR if directory is None else directory  # read at call time: tests point it elsewhere


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    os.replace(partial, path)  # a reader never sees half a file


def publish(stack: RunningStack, directory: Path | None = None, endpoint: Path | None = None) -> None:
    _write(endpoint or endpoint_file(), stack.ports.aws_url + "\n")
    _write(_directory(directory) / STACK_FILE, json.dumps(asdict(stack), indent=2) + "\n")


def withdraw(stack: RunningStack, directory: Path | None = None, endpoint: Path | None = None) -> None:
    """Remove what this stack published, unless another stack has published since."""
    running = _read(directory)
    if running is not None and running.pid == stack.pid:
        (_directory(directory) / STACK_FILE).unlink(missing_ok=True)
    endpoint = endpoint or endpoint_file()
    try:
        if endpoint.read_text().strip() == stack.ports.aws_url:
            endpoint.unlink()
    except FileNotFoundError:
        pass


def _read(directory: Path | None) -> RunningStack | None:
    try:
        raw = json.loads((_directory(directory) / STACK_FILE).read_text())
        return RunningStack(pid=int(raw["pid"]), ports=Ports(**raw["ports"]), with_app=bool(raw["with_app"]),
                            real_bot=bool(raw["real_bot"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_stack(directory: Path | None = None) -> RunningStack | None:
    stack = _read(directory)
    return stack if stack is not None and _alive(stack.pid) else None


def helper_ports(environ: Mapping[str, str] | None = None, directory: Path | None = None) -> Ports:
    """For commands that talk to a running stack: TGSHOP_*_PORT where set, else the running stack's ports,
    else the defaults. The API port of `make aws` is whatever `chalice local` was given (8000 by default)."""
    environ = os.environ if environ is None else environ
    stack = running_stack(directory)
    if stack is None:
        return resolve_ports(environ)
    known = {variable: str(getattr(stack.ports, part)) for part, (variable, _) in PORT_VARIABLES.items()
             if stack.with_app or part == "aws"}
    return resolve_ports({**known, **{key: value for key, value in environ.items() if value.strip()}})
