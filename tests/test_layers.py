"""The layering rule: the libraries `detectors` and `trackers` never import the application."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT

LIBRARIES = ("detectors", "trackers")


def _library_files() -> list[Path]:
    return sorted(path for name in LIBRARIES for path in (REPO_ROOT / name).rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_libraries_have_modules_to_check() -> None:
    assert len(_library_files()) >= 15


@pytest.mark.parametrize("path", _library_files(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_library_module_imports_the_application(path: Path) -> None:
    upward = sorted(m for m in _imported_modules(path) if m == "orchestrator" or m.startswith("orchestrator."))
    assert not upward, f"{path.relative_to(REPO_ROOT)} imports {upward}"


def test_importing_every_library_module_loads_no_application_module() -> None:
    modules = [
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in _library_files()
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'orchestrator'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
