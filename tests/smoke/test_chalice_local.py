"""`make aws` on a non-default port, then a plain `chalice local --stage local` in another shell that names
no port: the API finds the emulator, as README's "Other local commands" promise."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.localenv import free_ports
from devstack.runstate import running_stack
from tests.local_stack import PROJECT_DIR, START_TIMEOUT, LocalStack, group_alive, shell_env

pytestmark = pytest.mark.smoke


@pytest.fixture
def emulator():
    started = LocalStack("aws")
    yield started
    started.stop()


def test_plain_chalice_local_finds_the_emulator_make_aws_started_on_any_port(emulator):
    import httpx

    # Given `make aws` on a free port (never 5000)
    def published():
        stack = running_stack()
        return stack if stack is not None and stack.pid == emulator.process.pid else None

    stack = emulator.wait_until(published, START_TIMEOUT, "the emulator to publish its port")
    assert stack.ports.aws_url == emulator.aws and not stack.with_app

    # When `chalice local --stage local` starts in a shell that exports neither a port nor an endpoint
    (api_port,) = free_ports(1)
    chalice = str(Path(sys.executable).parent / "chalice")
    api = subprocess.Popen([chalice, "local", "--stage", "local", "--port", str(api_port), "--no-autoreload"],
                           cwd=PROJECT_DIR, env={**shell_env(), "PYTHONUNBUFFERED": "1"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def healthy():
            try:
                answer = httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=2)
            except httpx.TransportError:
                return None
            return answer if answer.status_code == 200 else None

        # Then its health check reaches the tables on the emulator's port
        answer = emulator.wait_until(healthy, START_TIMEOUT, "chalice local's /health")
        assert answer.json()["checks"]["dynamodb"] == "ok"
        catalog = httpx.get(f"http://127.0.0.1:{api_port}/catalog", timeout=5)
        assert catalog.status_code == 200 and catalog.json()
    finally:
        if group_alive(api.pid):
            os.killpg(api.pid, signal.SIGKILL)
        api.wait(timeout=10)
