"""The real local stack (`python -m devstack run`) in a child process on free ports, for the smoke and
browser tests: started as a person starts it, stopped with Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from devstack.localenv import free_ports

PROJECT_DIR = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


def group_alive(group_id: int) -> bool:
    try:
        os.killpg(group_id, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def shell_env() -> dict[str, str]:
    """This process's environment without anything that names a port of the local stack."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith("TGSHOP_") and key != "AWS_ENDPOINT_URL"}


class LocalStack:
    def __init__(self, command: str = "run") -> None:
        aws, api, sandbox, tron = free_ports(4)
        self.helper_env = {**shell_env(), "PYTHONUNBUFFERED": "1"}  # another shell: it knows no port
        self.env = {**self.helper_env, "TGSHOP_AWS_PORT": str(aws), "TGSHOP_API_PORT": str(api),
                    "TGSHOP_SANDBOX_PORT": str(sandbox), "TGSHOP_TRON_PORT": str(tron)}
        self.tron = f"http://127.0.0.1:{tron}"
        self.aws = f"http://127.0.0.1:{aws}"
        self.api = f"http://127.0.0.1:{api}"
        self.sandbox = f"http://127.0.0.1:{sandbox}"
        self.output = tempfile.TemporaryFile(mode="w+")
        # Its own session: the stack's process group can be checked for leftovers after Ctrl-C.
        self.process = subprocess.Popen([sys.executable, "-m", "devstack", command], cwd=PROJECT_DIR, env=self.env,
                                        stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, characters: int = 6000) -> str:
        self.output.seek(0)
        return self.output.read()[-characters:]

    def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the stack exited with {self.process.returncode} while waiting for {what}:\n"
                            f"{self.log_tail()}")
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}:\n{self.log_tail()}")

    def healthy(self) -> Any:
        """The /health answer once the API serves it, else None."""
        import httpx

        try:
            response = httpx.get(f"{self.api}/health", timeout=2)
        except httpx.TransportError:
            return None
        return response if response.status_code == 200 else None

    def stop(self, timeout: float = 10.0) -> None:
        """Ctrl-C, then SIGKILL for whatever outlived it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        if group_alive(self.process.pid):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.output.close()
