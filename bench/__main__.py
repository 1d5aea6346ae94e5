"""`python -m bench [--only NAME ...]`: run the benchmarks and write docs/benchmarks.md.

Every `bench/bench_<name>.py` module with a `run() -> str` (a Markdown section) is run: platform first,
then premium, then the others by name. A benchmark that raises gets its traceback summary as its section,
and the others still run. With `--only`, the named sections are replaced in the existing document and the
others are kept as they were. A section no module writes (the ledger soak, recorded by `make soak`) is kept
by every run.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import re
import sys
import sysconfig
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import bench
from bench.harness import REPO_ROOT

FIRST = ("platform", "premium")
OUTPUT = REPO_ROOT / "docs" / "benchmarks.md"
_SECTION = re.compile(r"<!-- bench:(?P<name>[a-z0-9_]+) -->\n(?P<body>.*?)\n<!-- /bench:(?P=name) -->", re.S)


def available() -> list[str]:
    names = [module.name.removeprefix("bench_") for module in pkgutil.iter_modules(bench.__path__)
             if module.name.startswith("bench_")]
    return [name for name in FIRST if name in names] + sorted(name for name in names if name not in FIRST)


def clean_paths(text: str) -> str:
    """No machine paths in the repo: make them relative or name them generically."""
    replacements = [(str(REPO_ROOT) + os.sep, ""), (str(REPO_ROOT), ".")]
    for key, label in (("purelib", "<site-packages>"), ("platlib", "<site-packages>"), ("stdlib", "<stdlib>")):
        path = sysconfig.get_paths().get(key)
        if path:
            replacements.append((path, label))
    replacements += [(tempfile.gettempdir(), "<tmp>"), (str(Path.home()), "~"), (sys.prefix, "<venv>")]
    for old, new in sorted(replacements, key=lambda pair: len(pair[0]), reverse=True):
        if old and old not in (os.sep, "."):
            text = text.replace(old, new)
    return text


def failure_section(name: str, error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    lines = [f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames]
    summary = "".join(traceback.format_exception_only(type(error), error)).strip()
    return "\n".join(["**This benchmark failed**; the other sections ran. Last frames:", "", "```",
                      *lines, summary, "```"])


def run_one(name: str) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.bench_{name}")
        body = module.run()
    except Exception as error:  # noqa: BLE001 - one failing benchmark must not stop the others
        traceback.print_exc()
        body = failure_section(name, error)
    return clean_paths(body.strip()), time.perf_counter() - started


def header(now: datetime) -> str:
    return "\n".join([
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); one section with `python -m bench --only NAME` "
        f"(names: {', '.join(available())}). Everything runs in process against emulated AWS (the local "
        "stack's emulator: moto's threaded server, DynamoDB requests applied one at a time) and the in-process "
        "Telegram sandbox, so absolute latencies are the emulator's, not AWS's; the "
        "ratios and the call counts are what to compare.",
        "",
        f"- Machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}",
        f"- Date: {now.strftime('%Y-%m-%d %H:%M')} UTC",
    ])


def render(sections: dict[str, str], order: list[str], now: datetime) -> str:
    parts = [header(now)]
    for name in order + sorted(set(sections) - set(order)):
        if name in sections:
            parts.append(f"<!-- bench:{name} -->\n{sections[name]}\n<!-- /bench:{name} -->")
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this benchmark (repeatable or comma-separated): " + ", ".join(available()))
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write (default docs/benchmarks.md)")
    args = parser.parse_args(argv)

    names = available()
    if args.only:
        wanted = [part.strip().removeprefix("bench_") for value in args.only for part in value.split(",") if part.strip()]
        unknown = [name for name in wanted if name not in names]
        if unknown:
            parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(names)}")
        names = [name for name in names if name in wanted]

    os.chdir(REPO_ROOT)
    sections: dict[str, str] = {}
    if args.output.is_file():   # sections not run now stay: those named by --only, and the recorded soak
        sections = {match["name"]: match["body"] for match in _SECTION.finditer(args.output.read_text())}
    failed = []
    for name in names:
        print(f"[bench] running {name}", file=sys.stderr, flush=True)
        body, seconds = run_one(name)
        if body.startswith("**This benchmark failed**"):
            failed.append(name)
        title = name.replace("_", " ").capitalize()
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
        sections[name] = f"## {title}\n\n_Ran {stamp} UTC in {seconds:.0f} s._\n\n{body}"
        print(f"[bench] {name} done in {seconds:.1f} s", file=sys.stderr, flush=True)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(sections, available(), datetime.now(timezone.utc)))
    print(f"[bench] wrote {clean_paths(str(args.output.resolve()))}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
