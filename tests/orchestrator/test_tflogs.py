"""TensorFlow's log lines stay off the terminal; failures still show what was written."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A block that passes, then one that fails, each writing straight to descriptor 2 as C++ code does.
SCRIPT = """
import os
from orchestrator.tflogs import {capture}
with {capture}():
    for line in {passing!r}:
        os.write(2, line)
print("quiet", flush=True)
try:
    with {capture}():
        os.write(2, {failing!r})
        raise RuntimeError("the block failed")
except RuntimeError:
    pass
"""


@pytest.mark.parametrize(
    ("capture", "passing", "failing", "expected"),
    [
        # The converter's lines are dropped unless the block fails.
        ("stderr_captured", [b"I0000 converter noise\n"], b"E0000 why it failed\n", "E0000 why it failed\n"),
        # LiteRT's start-up note is dropped, everything else kept, failing or not.
        (
            "litert_notes_dropped",
            [b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n", b"a warning the user should see\n"],
            b"written before the failure\n",
            "a warning the user should see\nwritten before the failure\n",
        ),
    ],
)
def test_captured_lines(capture: str, passing: list[bytes], failing: bytes, expected: str) -> None:
    code = SCRIPT.format(capture=capture, passing=passing, failing=failing)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "quiet\n"
    assert result.stderr == expected


def test_importing_orchestrator_sets_the_tensorflow_log_level() -> None:
    code = "import os, orchestrator; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    env = {"PATH": "/usr/bin:/bin"}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout == "3\n"
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"  # the user's choice wins
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout == "0\n"


def test_loading_a_real_pipeline_prints_no_litert_note(real_models, tmp_path) -> None:
    from helpers import REPO_ROOT, run_cli, shared_path

    video = shared_path("data/egodex/add_remove_lid_0.mp4")
    result = run_cli(
        "run", REPO_ROOT / "pipelines" / "hands_only.yaml", "--source", video, "--max-frames", "3",
        "--events", tmp_path / "e.jsonl", "-q",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
