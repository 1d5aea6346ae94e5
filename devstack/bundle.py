"""Slim the Chalice deployment.zip: drop what the Lambda Python runtime already provides.

The runtime ships boto3 and its dependencies; shipping our own copy only makes the package (and every
cold start's unzip) bigger.
"""
from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Top-level modules the Lambda Python runtime provides, and the distributions they come from.
RUNTIME_MODULES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"})
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "urllib3", "six")
MODULE_DISTRIBUTIONS = {"dateutil": "python_dateutil", "six.py": "six"}
METADATA_DIR = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+?)-[^/]*\.(dist-info|egg-info)$")
MAX_BUNDLE_BYTES = 10_000_000  # 10 MB


@dataclass(frozen=True)
class PruneReport:
    before: int
    after: int
    removed_entries: int
    removed_packages: tuple[str, ...]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def provided_by_runtime(path: str) -> str | None:
    """The runtime package an archive entry belongs to, or None to keep it."""
    top = path.split("/", 1)[0]
    if top in RUNTIME_MODULES:
        return MODULE_DISTRIBUTIONS.get(top, top)
    metadata = METADATA_DIR.match(top)
    if metadata and _normalise(metadata.group("name")) in RUNTIME_DISTRIBUTIONS:
        return _normalise(metadata.group("name"))
    return None


def prune_bundle(path: Path) -> PruneReport:
    """Rewrite the archive in place (atomically) without the runtime-provided packages."""
    before = path.stat().st_size
    removed: set[str] = set()
    removed_entries = 0
    handle, temporary = tempfile.mkstemp(prefix=".prune-", suffix=".zip", dir=path.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(temporary, "w") as target:
            for info in source.infolist():
                package = provided_by_runtime(info.filename)
                if package:
                    removed.add(package)
                    removed_entries += 1
                    continue
                # Same name, timestamps, permissions and compression as Chalice wrote them.
                target.writestr(info, source.read(info), compress_type=info.compress_type)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return PruneReport(before, path.stat().st_size, removed_entries, tuple(sorted(removed)))


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.2f} MB"
