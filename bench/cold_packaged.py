"""The cold path as Lambda runs the deployment package: unpacked, on a disk Python may not write to.

`make package` adds the bytecode of the modules the app loads (devstack/bytecode.py); without it, every
cold start compiled them from source, which the repository's own bytecode caches hide from the headline
figures. The package is built as `make package` builds it, unpacked twice (with its bytecode, and its
sources only, as before), and each serves the first request of each kind with bytecode writes off; the
baseline is measured beside them in the same runs. The runtime's own packages (boto3, botocore) and the
standard library keep their bytecode, as in Lambda's runtime."""
from __future__ import annotations

import os
import statistics
import zipfile
from pathlib import Path
from typing import Any, Callable

from bench.harness import md_table, ms, progress

RUNS = int(os.environ.get("BENCH_COLD_PACKAGED_RUNS", "7"))
VARIANTS = ("with bytecode", "sources only", "baseline")


def unpack(scratch: Path) -> dict[str, Path]:
    from bench.bench_platform import _build_package

    progress("coldpath: building the deployment package as make package does")
    archive, _ = _build_package(scratch / "built")
    with_bytecode, sources_only = scratch / "package", scratch / "package-sources"
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(with_bytecode)
        bundle.extractall(sources_only, [name for name in bundle.namelist() if "/__pycache__/" not in f"/{name}"])
    return {"with bytecode": with_bytecode, "sources only": sources_only}


def measure(kinds: tuple[str, ...], first_event: Callable[[str, int], dict], run_probe: Callable[..., dict],
            packages: dict[str, Path], baseline: Path, env: dict[str, str]) -> dict[str, dict[str, list]]:
    """Per kind and variant, the probes' results; `first_event(kind, n)` is the n-th unused event."""
    read_only = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    directories = {**packages, "baseline": baseline}
    results: dict[str, dict[str, list]] = {kind: {variant: [] for variant in VARIANTS} for kind in kinds}
    for run_index in range(RUNS):
        progress(f"coldpath: packaged run {run_index + 1} of {RUNS}")
        for kind in kinds:
            for offset, variant in enumerate(VARIANTS):
                event = first_event(kind, run_index * len(VARIANTS) + offset)
                results[kind][variant].append(run_probe(directories[variant], kind, [event],
                                                        read_only if variant != "baseline" else env))
    return results


def render(results: dict[str, dict[str, list]]) -> str:
    def spawn(samples: list[dict[str, Any]]) -> float:
        return statistics.median(sample["first_response_after_spawn"] for sample in samples)

    rows = []
    for kind, by_variant in results.items():
        compiled, sources, base = (spawn(by_variant[variant]) for variant in VARIANTS)
        rows.append([kind, ms(compiled), ms(sources), ms(base), f"**{compiled / base:.2f}x**",
                     f"{sources / base:.2f}x", ms(sources - compiled)])
    return "\n".join([
        "### The cold path as Lambda runs the package",
        "",
        f"Median of {RUNS} runs per variant and kind, interleaved: the deployment package built as `make package` "
        "builds it, unpacked, served with bytecode writes off (`PYTHONDONTWRITEBYTECODE`, as on Lambda's read-only "
        "disk), once with the bytecode `make package` adds and once with its sources only (what the package held "
        "before); the baseline as above. One cold request per process, spawn to first response. The runtime's "
        "packages (boto3, botocore) and the standard library keep their bytecode in every variant, as in Lambda.",
        "",
        md_table(["first request", "package with bytecode", "sources only", "baseline", "ratio with bytecode",
                  "ratio, sources only", "what the bytecode saves"], rows),
    ])
