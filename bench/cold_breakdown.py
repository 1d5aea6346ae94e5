"""What the cold path imports beyond the baseline, library by library: one fresh interpreter per run does, in
turn, what the baseline does before its read (imports boto3 and Chalice, builds one DynamoDB client: that loads
much of botocore, which pynamodb would otherwise be charged with), then imports each library of the design card,
then the app and the modules of ours a buyer's order read loads, and times each step. Steps share what an earlier
step loaded (typing helpers, the standard library), so each is what it adds after the ones above it. The
collector is held throughout, as in tgshop's Lambda cold start (chalicelib/cold_start.py), and the packages
absent from the deployment package are absent here too (`bench/cold_probe.py`)."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from bench.harness import REPO_ROOT, md_table, ms, progress

RUNS = int(os.environ.get("BENCH_COLD_BREAKDOWN_RUNS", "9"))
STEPS = (
    ("the baseline's own: boto3, Chalice and one DynamoDB client",
     "import boto3\nfrom chalice import Chalice\nboto3.client('dynamodb')"),
    ("pydantic: `BaseModel` and the names the settings use",
     "from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, "
     "field_validator, model_validator\nfrom pydantic_core import PydanticCustomError"),
    ("the settings model (`chalicelib.config`: its class and validator)", "import chalicelib.config"),
    ("Powertools `Logger` and `Metrics`", "from aws_lambda_powertools import Logger, Metrics"),
    ("the X-Ray SDK and its botocore patch (tracing on)",
     "import aws_xray_sdk.core\nimport aws_xray_sdk.ext.botocore.patch"),
    ("pynamodb", "import pynamodb.models, pynamodb.connection, pynamodb.transactions"),
    ("httpx (the Telegram kinds)", "import httpx"),
    ("`app`: the routes, the middleware and what they import", "import app"),
    ("the models, container and domain an order read loads",
     "import chalicelib.container, chalicelib.adapters.dynamodb.orders, chalicelib.domain.ordering, "
     "chalicelib.domain.products.premium, chalicelib.domain.payment_methods.trc20, chalicelib.api.views"),
)
_PROBE = """
import gc, json, sys, time
gc.disable()
sys.path.insert(0, {root!r})
from bench.cold_probe import _NotDeployed
sys.meta_path.insert(0, _NotDeployed())
steps, times = {steps!r}, []
for code in steps:
    began = time.perf_counter()
    exec(code, {{}})
    times.append(time.perf_counter() - began)
print(json.dumps(times))
"""


def measure(env: dict[str, str]) -> list[list[float]]:
    """Per step, the seconds of every run."""
    script = _PROBE.format(root=str(REPO_ROOT), steps=[code for _, code in STEPS])
    samples: list[list[float]] = [[] for _ in STEPS]
    for run_index in range(RUNS):
        progress(f"coldpath: breakdown run {run_index + 1} of {RUNS}")
        done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        for step, seconds in enumerate(json.loads(done.stdout.strip().splitlines()[-1])):
            samples[step].append(seconds)
    return samples


def render(samples: list[list[float]], baseline_seconds: float) -> str:
    medians = [statistics.median(step) for step in samples]
    rows = [[name, ms(median), f"{median / baseline_seconds:.2f}x"] for (name, _), median in zip(STEPS, medians)]
    ours = sum(medians[1:])
    libraries = sum(medians[1:7])
    return "\n".join([
        "### What the cold path imports beyond the baseline, by library",
        "",
        f"Median of {RUNS} fresh interpreters, each importing the steps below in turn and timing each one (a step "
        "adds what the steps above it have not loaded). The collector is held throughout, as tgshop holds it in "
        "Lambda. The last column divides by the baseline's spawn to first response for the HTTP read in the table "
        f"above ({ms(baseline_seconds)}): the 1.3x target leaves 0.30x of it for everything tgshop adds.",
        "",
        md_table(["step", "median", "share of the baseline's cold path"], rows),
        "",
        f"Everything after the first step: {ms(ours)} ({ours / baseline_seconds:.2f}x of the baseline); the design "
        f"card's libraries alone (pydantic to httpx, with the settings model) {ms(libraries)} "
        f"({libraries / baseline_seconds:.2f}x). Building the container, its clients and the first answer come on "
        "top, as the baseline's client and answer do for it.",
    ])
