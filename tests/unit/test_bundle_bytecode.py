"""`make package` adds the bytecode of the modules the app loads to deployment.zip (devstack/bytecode.py)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib.util import cache_from_source
from pathlib import Path

from devstack.bytecode import compile_bundle

TAG = sys.implementation.cache_tag
PACKAGE = {
    "app.py": "import chalicelib.shop\n",
    "chalicelib/__init__.py": "",
    "chalicelib/shop.py": "def answer():\n    import bundled_lazy\n    return bundled_lazy.ANSWER\n",
    "chalicelib/spare.py": "VALUE = 1\n",   # imported by nobody, but ours: loaded by the walk of chalicelib
    "bundled_lazy/__init__.py": "ANSWER = 'from the package'\n",   # imported inside a function only
    "bundled_lazy-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: bundled-lazy\nVersion: 1.0\n"
                                           "Requires-Dist: bundled-needed\n"
                                           "Requires-Dist: bundled-extra ; extra == 'x'\n",
    "bundled_lazy-1.0.dist-info/top_level.txt": "bundled_lazy\n",
    "bundled_needed/__init__.py": "",        # what the lazy library requires: its own first use may load it
    "bundled_needed-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: bundled-needed\nVersion: 1.0\n",
    "bundled_needed-1.0.dist-info/top_level.txt": "bundled_needed\n",
    "bundled_extra/__init__.py": "",         # required only by an extra nobody asked for
    "bundled_extra-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: bundled-extra\nVersion: 1.0\n",
    "bundled_extra-1.0.dist-info/top_level.txt": "bundled_extra\n",
    "bundled_unused/__init__.py": "",        # shipped, imported by nothing
}


def _bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "deployment.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in PACKAGE.items():
            archive.writestr(name, text)
        # What the packager copies from a working tree: caches stamped with the tree's file times.
        for stale in ("chalicelib/shop.py", "bundled_unused/__init__.py"):
            archive.writestr(_compiled_name(stale), b"stale bytecode")
    return bundle


def _compiled_name(source: str) -> str:
    return Path(cache_from_source(source)).as_posix()


def test_the_modules_the_app_loads_get_bytecode_and_nothing_else(tmp_path):
    bundle = _bundle(tmp_path)

    report = compile_bundle(bundle)

    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    compiled = {source for source in PACKAGE if source.endswith(".py") and _compiled_name(source) in names}
    bytecode = {name for name in names if name.endswith(".pyc")}
    assert compiled == {"app.py", "chalicelib/__init__.py", "chalicelib/shop.py", "chalicelib/spare.py",
                        "bundled_lazy/__init__.py", "bundled_needed/__init__.py"}
    assert bytecode == {_compiled_name(source) for source in compiled}   # the copied caches are gone
    assert set(PACKAGE) <= names   # the sources stay: tracebacks show their lines
    assert report.compiled == 6 and report.sources == 8 and report.after > report.before
    assert list(tmp_path.iterdir()) == [bundle]   # no temporary file left behind


def test_python_runs_the_bytecode_without_checking_the_source(tmp_path):
    bundle = _bundle(tmp_path)
    compile_bundle(bundle)
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(unpacked)
    for source in ("bundled_lazy/__init__.py", "chalicelib/shop.py"):
        header = (unpacked / _compiled_name(source)).read_bytes()[4:8]
        assert int.from_bytes(header, "little") == 0b01   # hash-based and unchecked (PEP 552)
    # A changed source is not read again: what runs is the bytecode, as on a read-only Lambda disk.
    (unpacked / "bundled_lazy" / "__init__.py").write_text("ANSWER = 'compiled again'\n")

    answer = subprocess.run([sys.executable, "-B", "-c", "import app, chalicelib.shop as shop; print(shop.answer())"],
                            cwd=unpacked, capture_output=True, text=True, check=True).stdout.strip()

    assert answer == "from the package"
