"""The packaged template (`chalice package --stage prod` merged with infra/resources.yaml), built once."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("package") / "out"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", "prod",
                             "--merge-template", "infra/resources.yaml", str(out)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return yaml.safe_load((out / "sam.yaml").read_text())
