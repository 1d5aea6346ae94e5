"""The packaged template (`chalice package --stage prod` merged with infra/resources.yaml), built once per run:
with xdist, the first worker to need it packages it under a lock and the others read the same file (two
packagings at once would share Chalice's deployment cache)."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> dict:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # common to this run's workers
    template = shared / "packaged" / "sam.yaml"
    with open(shared / "packaged.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
            result = subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", "prod",
                                     "--merge-template", "infra/resources.yaml", str(template.parent)], cwd=ROOT,
                                    env=env, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
    return yaml.safe_load(template.read_text())
