"""Platform benchmarks: Lambda init cost against a bare Chalice + boto3 app, the deployment package size,
and a demonstration of the DynamoDB call counter the other benchmarks use."""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

from bench.harness import REPO_ROOT, Emulator, Stack, md_table, ms, progress, quiet

INIT_RUNS = 21            # per app, interleaved; the issue asks for at least 15
INIT_TARGET = 1.3
BUNDLE_TARGET_BYTES = 10_000_000  # 10 MB, as `python -m devstack prune-bundle` counts it
PACKAGE_TIMEOUT_SECONDS = 600

BASELINE_APP = '''"""The baseline: a bare Chalice app that imports boto3."""
import boto3
from chalice import Chalice

app = Chalice(app_name="baseline")


@app.route("/")
def index():
    return {"hello": "world"}
'''

# Time only the import, inside the fresh interpreter, and list which heavy packages it pulled in.
IMPORT_PROBE = ("import sys, time; t = time.perf_counter(); import app; d = time.perf_counter() - t; "
                "heavy = [m for m in ('boto3', 'botocore.client', 'pydantic', 'pynamodb', 'httpx', 'tenacity', "
                "'aws_xray_sdk', 'yaml') if m in sys.modules]; "
                "print(repr((d, len(sys.modules), heavy)))")

# What the first invocation of a cold container still has to import (kept out of init on purpose).
DEFERRED_PROBE = ("import time; import app; t = time.perf_counter(); "
                  "import chalicelib.config, chalicelib.container, chalicelib.api.requests, chalicelib.api.views, "
                  "chalicelib.adapters.dynamodb.orders, chalicelib.adapters.dynamodb.payments, "
                  "chalicelib.adapters.telegram, chalicelib.domain.payment_methods.trc20_transfers, "
                  "chalicelib.domain.ordering; "
                  "from chalicelib.observability import tracer; tracer(); "
                  "print(repr(time.perf_counter() - t))")


def run() -> str:
    parts = ["Lambda imports `app.py` once per cold container, and the deployment package is unzipped once "
             "per container too; both should stay close to what an empty Chalice app costs."]
    parts.append(init_cost())
    parts.append(package_size())
    parts.append(counter_demo())
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------------- init
def lambda_environment() -> dict[str, str]:
    """What a deployed prod function sees at init: the stage's variables, tracing active (not disabled)."""
    config = json.loads((REPO_ROOT / ".chalice" / "config.json").read_text())
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "AWS_LAMBDA_FUNCTION_NAME": "tgshop-prod-api_handler",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
           "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
           "_HANDLER": "app.app", "RESOURCE_PREFIX": "tgshop-prod"}
    env.update(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get("prod", {}).get("environment_variables", {}))
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    return env


def _probe(code: str, cwd: Path, env: dict[str, str]) -> tuple[float, object]:
    """(wall seconds of the whole interpreter, what the probe printed)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"probe failed in {cwd.name}: {done.stderr.strip().splitlines()[-1:]}")
    import ast

    return wall, ast.literal_eval(done.stdout.strip().splitlines()[-1])


def init_cost() -> str:
    progress("platform: init cost")
    env = lambda_environment()
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as baseline_dir:
        baseline = Path(baseline_dir)
        (baseline / "app.py").write_text(BASELINE_APP)
        # One unmeasured run each writes the bytecode caches, as a warm build would ship them.
        _probe(IMPORT_PROBE, REPO_ROOT, env)
        _probe(IMPORT_PROBE, baseline, env)
        app_import, app_wall, base_import, base_wall = [], [], [], []
        app_info = base_info = None
        for _ in range(INIT_RUNS):
            wall, (seconds, modules, heavy) = _probe(IMPORT_PROBE, REPO_ROOT, env)
            app_import.append(seconds), app_wall.append(wall)
            app_info = (modules, heavy)
            wall, (seconds, modules, heavy) = _probe(IMPORT_PROBE, baseline, env)
            base_import.append(seconds), base_wall.append(wall)
            base_info = (modules, heavy)
        deferred = [_probe(DEFERRED_PROBE, REPO_ROOT, env)[1] for _ in range(7)]

    import_ratio = statistics.median(app_import) / statistics.median(base_import)
    wall_ratio = statistics.median(app_wall) / statistics.median(base_wall)
    verdict = "meets" if import_ratio <= INIT_TARGET and wall_ratio <= INIT_TARGET else "MISSES"
    rows = [
        ["`import app` (tgshop)", ms(statistics.median(app_import)), ms(statistics.median(app_wall)),
         app_info[0], ", ".join(app_info[1]) or "none"],
        ["bare Chalice app + `import boto3`", ms(statistics.median(base_import)), ms(statistics.median(base_wall)),
         base_info[0], ", ".join(base_info[1]) or "none"],
        ["**ratio tgshop / baseline**", f"**{import_ratio:.2f}x**", f"**{wall_ratio:.2f}x**", "", ""],
    ]
    return "\n".join([
        "### Init cost: importing the app in a fresh interpreter",
        "",
        f"Median of {INIT_RUNS} runs each, tgshop and baseline interleaved in the same run. Each run is a new "
        "`python -c \"import app\"` in the app's directory with a prod function's environment: the stage's "
        "variables from `.chalice/config.json`, `AWS_LAMBDA_FUNCTION_NAME` set and tracing **not** disabled. "
        "*Import* is timed inside the interpreter around `import app`; *process* is the whole interpreter "
        "(start-up + import + exit), which is what a Lambda INIT phase resembles.",
        "",
        md_table(["", "import (median)", "process (median)", "modules loaded", "heavy packages loaded"], rows),
        "",
        f"Target: at most {INIT_TARGET}x the baseline. Result: **{verdict}** "
        f"({import_ratio:.2f}x for the import, {wall_ratio:.2f}x for the whole process). "
        "boto3 is never imported at init (the baseline pays for it); pydantic, pynamodb, httpx and the X-Ray "
        "SDK load on first use.",
        "",
        f"Deferred, not avoided: the first invocation of a cold container then imports settings, adapters, "
        f"services and builds the Tracer: median {ms(statistics.median(deferred))} over {len(deferred)} runs "
        "(paid once per container, inside the first request).",
    ])


# ---------------------------------------------------------------------------------------------- package
def _has_prune_command() -> bool:
    main = REPO_ROOT / "devstack" / "__main__.py"
    return main.is_file() and "prune-bundle" in main.read_text()


def _build_package(target: Path) -> tuple[Path, str]:
    chalice = Path(sys.executable).with_name("chalice")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_ENDPOINT_URL", None)
    subprocess.run([str(chalice), "package", "--stage", "prod", "--merge-template", "infra/resources.yaml",
                    str(target)], cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True,
                   timeout=PACKAGE_TIMEOUT_SECONDS)
    archive = target / "deployment.zip"
    if _has_prune_command():
        for step in ("prune-bundle", "compile-bundle"):
            subprocess.run([sys.executable, "-m", "devstack", step, str(archive)], cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
        return archive, ("built now with `chalice package --stage prod`, pruned and compiled with `python -m devstack "
                         "prune-bundle` and `compile-bundle`, as `make package` does")
    return archive, "built now with `chalice package --stage prod` (no prune step exists yet)"


def _describe_zip(archive: Path) -> tuple[int, int, int, list[tuple[str, int]], set[str]]:
    with zipfile.ZipFile(archive) as bundle:
        infos = bundle.infolist()
    by_top: Counter[str] = Counter()
    for info in infos:
        top = info.filename.split("/", 1)[0]
        if top.endswith((".dist-info", ".egg-info")):
            top = "(package metadata)"
        by_top[top] += info.compress_size
    tops = {info.filename.split("/", 1)[0] for info in infos}
    return (archive.stat().st_size, sum(info.file_size for info in infos), len(infos), by_top.most_common(8),
            tops & {"boto3", "botocore", "s3transfer"})


def package_size() -> str:
    progress("platform: deployment package size")
    built = REPO_ROOT / "build" / "package" / "deployment.zip"
    temporary: str | None = None
    try:
        if built.is_file():
            archive, how = built, "`build/package/deployment.zip` as `make package` produced it"
        else:
            temporary = tempfile.mkdtemp(prefix="bench-package-")
            archive, how = _build_package(Path(temporary) / "package")
        size, unpacked, files, largest, runtime = _describe_zip(archive)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    verdict = "meets" if size < BUNDLE_TARGET_BYTES else "MISSES"
    rows = [[name, f"{compressed / 1_000_000:.2f} MB"] for name, compressed in largest]
    return "\n".join([
        "### Deployment package",
        "",
        f"Measured: {how}.",
        "",
        md_table(["deployment.zip", "value"], [
            ["size (compressed)", f"**{size / 1_000_000:.2f} MB** ({size:,} bytes)"],
            ["size unpacked", f"{unpacked / 1_000_000:.2f} MB"],
            ["files", f"{files:,}"],
            ["boto3 / botocore inside", ", ".join(sorted(runtime)) or "no (the Lambda runtime provides them)"],
        ]),
        "",
        f"Target: under 10 MB. Result: **{verdict}**. Largest parts (compressed):",
        "",
        md_table(["top-level entry", "compressed"], rows),
    ])


# ---------------------------------------------------------------------------------------------- counter
def counter_demo() -> str:
    progress("platform: DynamoDB counter demo")
    from bench.dynamo_counter import DynamoCounter

    rows = []
    with Emulator() as emulator, Stack(emulator, prefix="tgshop-bench-platform") as stack, quiet():
        stack.client.http.get("/health")  # pynamodb's own botocore client now exists, before the counter
        table = f"{stack.prefix}-guards"

        def step(label: str, expected: dict, work) -> None:
            with DynamoCounter() as counter:
                work()
            seen = {"calls": counter.describe_calls(), "total": counter.total_calls,
                    "written": counter.items_written, "read": counter.items_read, "failed": counter.failed_calls}
            ok = all(seen[key] == value for key, value in expected.items())
            rows.append([label, seen["calls"], seen["failed"], seen["written"], seen["read"],
                         "yes" if ok else f"NO (expected {expected})"])

        step("`GET /health` through the app: one GetItem of an absent probe key, made by the pynamodb client "
             "that existed before the counter",
             {"total": 1, "written": 0, "read": 0}, lambda: stack.client.http.get("/health"))

        def batch_write() -> None:
            import boto3

            fresh = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=emulator.url)
            for first, last in ((0, 25), (25, 30)):
                fresh.batch_write_item(RequestItems={table: [
                    {"PutRequest": {"Item": {"guard_id": {"S": f"demo#{index}"}, "expires_at": {"N": "1"}}}}
                    for index in range(first, last)]})

        step("2 `BatchWriteItem` of 25 + 5 items (a boto3 client created inside the counter)",
             {"total": 2, "written": 30}, batch_write)

        def transaction() -> None:
            emulator.client("dynamodb").transact_write_items(TransactItems=[
                {"Put": {"TableName": table, "Item": {"guard_id": {"S": f"demo-tx#{index}"}, "expires_at": {"N": "1"}}}}
                for index in range(3)])

        step("1 `TransactWriteItems` of 3 puts", {"total": 1, "written": 3}, transaction)

        def conditional_miss() -> None:
            from chalicelib.adapters.dynamodb.guards import DynamoGuardStore
            from datetime import datetime, timezone

            guards = DynamoGuardStore()
            guards.claim("demo-claim", 3600, datetime.now(timezone.utc))
            guards.claim("demo-claim", 3600, datetime.now(timezone.utc))  # lost: the condition fails

        step("2 conditional `PutItem`s through pynamodb, the second losing its condition",
             {"total": 2, "written": 1, "failed": 1}, conditional_miss)
        step("1 `Scan` of the guards table", {"total": 1, "read": 34},
             lambda: emulator.client("dynamodb").scan(TableName=table))
    return "\n".join([
        "### DynamoDB call counter (`bench/dynamo_counter.py`)",
        "",
        "`with DynamoCounter() as counter: ...` then `counter.calls` (operation -> count), `counter.total_calls`, "
        "`counter.items_written`, `counter.reset()` (plus `items_read`, `failed_calls`, `read_units_estimate`). "
        "It counts through two botocore event hooks, `before-parameter-build.dynamodb` (the request's items) and "
        "`after-call.dynamodb` (one per logical call, after botocore's retries). pynamodb makes its own botocore "
        "session per connection and a warm container's clients exist before any counter starts, so the hooks are "
        "attached from a patched `botocore.client.BaseClient._make_api_call`: the first call of every client, "
        "whichever session made it and whenever, registers the hooks on that client's event emitter; leaving the "
        "last counter restores the method and unregisters the hooks.",
        "",
        "Demonstration against the emulator:",
        "",
        md_table(["what ran", "calls counted", "failed", "items written", "items read", "as expected"], rows),
    ])
