"""Helpers shared by the tests, as plain functions and values (fixtures live in ``conftest.py``)."""

from helpers.cli import run_cli, write_pipeline
from helpers.media import make_video, read_rgb, write_fixture
from helpers.paths import (
    CENTERNET_TARBALL,
    DATA_DIR,
    HAND_TARBALL,
    MEDIAPIPE_TARBALL,
    REPO_ROOT,
    SHARED,
    shared_path,
)
from helpers.records import validate_records
from helpers.tfjs import TinyTfjs, add_bytes, cache_leftovers

__all__ = [
    "CENTERNET_TARBALL",
    "DATA_DIR",
    "HAND_TARBALL",
    "MEDIAPIPE_TARBALL",
    "REPO_ROOT",
    "SHARED",
    "TinyTfjs",
    "add_bytes",
    "cache_leftovers",
    "make_video",
    "read_rgb",
    "run_cli",
    "shared_path",
    "validate_records",
    "write_fixture",
    "write_pipeline",
]
