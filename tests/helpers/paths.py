"""Where things are: the repository, its test data, and ``../shared`` (skipping when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
DATA_DIR = REPO_ROOT / "tests" / "data"
HAND_TARBALL = "npm/handtrackjs-0.0.13.tgz"
CENTERNET_TARBALL = "npm/vladmandic-human-3.3.6.tgz"
MEDIAPIPE_TARBALL = "npm/mediapipe-hands-0.4.1675469240.tgz"


def shared_path(relative: str) -> Path:
    """``../shared/<relative>``, or skip the test naming the missing path."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the repository)")
    return path
