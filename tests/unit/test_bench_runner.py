"""The benchmark runner (bench/__main__.py): section order, merging with --only, no machine paths."""
from __future__ import annotations

from datetime import datetime, timezone

import bench.__main__ as runner
from bench.harness import REPO_ROOT, Stats, md_table


def test_platform_and_premium_come_first():
    names = runner.available()
    assert names[:2] == ["platform", "premium"]
    assert names[2:] == sorted(names[2:])


def test_only_replaces_its_section_and_keeps_the_others(tmp_path, monkeypatch):
    output = tmp_path / "benchmarks.md"
    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    output.write_text(runner.render({"platform": "## Platform\nold", "premium": "## Premium\nkept"},
                                    ["platform", "premium"], now))
    monkeypatch.setattr(runner, "available", lambda: ["platform", "premium"])
    monkeypatch.setattr(runner, "run_one", lambda name: (f"new {name}", 0.0))

    assert runner.main(["--only", "platform", "--output", str(output)]) == 0

    text = output.read_text()
    assert "new platform" in text and "old" not in text
    assert "## Premium\nkept" in text
    assert text.index("bench:platform") < text.index("bench:premium")


def test_a_failing_benchmark_becomes_its_section(monkeypatch):
    def explode():
        raise ValueError("boom")

    monkeypatch.setattr(runner.importlib, "import_module", lambda name: type("M", (), {"run": staticmethod(explode)}))
    body, _ = runner.run_one("platform")
    assert body.startswith("**This benchmark failed**") and "ValueError: boom" in body
    assert str(REPO_ROOT) not in body


def test_paths_are_cleaned():
    text = f"{REPO_ROOT}/bench/x.py and {REPO_ROOT}"
    assert runner.clean_paths(text) == "bench/x.py and ."


def test_stats_and_tables():
    stats = Stats.of([0.001 * value for value in range(1, 101)])
    assert round(stats.median, 4) == 0.0505 and stats.p99 > stats.median
    assert md_table(["a", "b"], [[1, "x|y"]]).splitlines()[2] == "| 1 | x\\|y |"
