"""Running the command line in a subprocess, and writing pipeline files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

from helpers.paths import REPO_ROOT


def run_cli(
    *args: str | os.PathLike[str],
    cwd: str | Path | None = None,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m orchestrator ARGS`` in a subprocess; returns the CompletedProcess (text).

    ``cwd`` defaults to the repository root; ``env`` adds to (or overrides) the current environment.
    """
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *map(str, args)],
        cwd=str(cwd if cwd is not None else REPO_ROOT),
        capture_output=True,
        text=True,
        errors="replace",  # native libraries may print raw bytes on stderr
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def write_pipeline(path: str | Path, text: str) -> Path:
    """Write pipeline YAML ``text`` (dedented) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path
