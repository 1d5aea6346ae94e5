"""Bytecode for the modules the app loads, added to deployment.zip.

Lambda runs the package from a read-only directory, so Python cannot write `__pycache__` there, and
`chalice package` ships sources only: every cold start compiled every module it imported from source.
This step adds each such module's bytecode where Python looks for it (`__pycache__/<name>.<tag>.pyc`),
as unchecked-hash bytecode: the archive's timestamps are not the sources', and nothing in a deployed
package changes in place. Only the modules the app can load are compiled, not every file of every
library, so the package stays within its size budget; a module left out is compiled at import as before.

The modules are found by importing, in a fresh interpreter over the unpacked package: the app, every
module of `chalicelib`, and every name any of them imports, including the imports inside functions
(the libraries loaded on first use, such as httpx or the X-Ray SDK).
"""
from __future__ import annotations

import json
import os
import py_compile
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib.util import cache_from_source
from pathlib import Path

_LIST_LOADED = r'''
import ast, importlib, json, pathlib, pkgutil, sys

root = pathlib.Path(sys.argv[1]).resolve()
sys.path.insert(0, str(root))
import app  # noqa: F401
import chalicelib

wanted = {module.name for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib.")}
for source in [root / "app.py", *(root / "chalicelib").rglob("*.py")]:
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            wanted.update((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            wanted.update((node.module, alias.name) for alias in node.names)
for entry in sorted(wanted, key=str):
    module_name, attribute = entry if isinstance(entry, tuple) else (entry, None)
    try:
        module = importlib.import_module(module_name)
        if attribute and attribute != "*":
            getattr(module, attribute, None)  # a package that loads its names lazily (pydantic) loads them now
    except Exception:
        pass  # an optional import the code guards (absent extras, another platform's module)
# The libraries those load on first use (httpx its transport's httpcore and h11): the packages that each
# loaded package's distribution requires, until nothing new is required.
import importlib.metadata as metadata, re
providers = {}
for top, names in metadata.packages_distributions().items():
    for name in names:
        providers.setdefault(re.sub(r"[-_.]+", "-", name).lower(), set()).add(top)
tried = set()
while True:
    tops = {name.split(".")[0] for name, module in list(sys.modules.items())
            if str(getattr(module, "__file__", "") or "").startswith(str(root))}
    required = set()
    for top in tops - tried:
        tried.add(top)
        for distribution in metadata.packages_distributions().get(top, []):
            for requirement in metadata.requires(distribution) or []:
                if "extra ==" not in requirement:
                    wanted_name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
                    required |= providers.get(re.sub(r"[-_.]+", "-", wanted_name).lower(), set())
    if not required - tops:
        break
    for top in sorted(required - tops):
        tried.add(top)
        try:
            importlib.import_module(top)
        except Exception:
            pass
loaded = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
print(json.dumps(sorted(str(pathlib.Path(name).resolve().relative_to(root)) for name in loaded
                        if name and name.endswith(".py") and pathlib.Path(name).resolve().is_relative_to(root))))
'''


@dataclass(frozen=True)
class CompileReport:
    before: int
    after: int
    compiled: int
    sources: int


def modules_the_app_loads(unpacked: Path) -> list[str]:
    """The package's source files (relative paths) that importing the app and its imports loads."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run([sys.executable, "-c", _LIST_LOADED, str(unpacked)], cwd=unpacked, env=environment,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"listing the modules the app loads failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _is_bytecode(name: str) -> bool:
    return "__pycache__/" in f"/{name}" or name.endswith(".pyc")


def compile_bundle(path: Path) -> CompileReport:
    """Rewrite the archive in place (atomically) with the bytecode of every module the app loads."""
    before = path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="bundle-bytecode-") as scratch:
        unpacked = Path(scratch) / "package"
        with zipfile.ZipFile(path) as archive:
            archive.extractall(unpacked)
            sources = sum(1 for name in archive.namelist() if name.endswith(".py"))
        additions: list[tuple[str, Path]] = []
        for relative in modules_the_app_loads(unpacked):
            source = unpacked / relative
            compiled = Path(cache_from_source(str(source)))
            py_compile.compile(str(source), cfile=str(compiled), dfile=relative, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            additions.append((compiled.relative_to(unpacked).as_posix(), compiled))
        handle, temporary = tempfile.mkstemp(prefix=".bytecode-", suffix=".zip", dir=path.parent)
        os.close(handle)
        try:
            with zipfile.ZipFile(path) as source_archive, zipfile.ZipFile(temporary, "w") as target:
                for info in source_archive.infolist():
                    if _is_bytecode(info.filename):
                        continue   # the packager copies a working tree's caches, stamped for files it re-dates
                    target.writestr(info, source_archive.read(info), compress_type=info.compress_type)
                for name, compiled in sorted(additions):
                    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                    info.external_attr = 0o644 << 16
                    target.writestr(info, compiled.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return CompileReport(before, path.stat().st_size, len(additions), sources)
