"""TensorFlow's log lines stay off the terminal; failures still show what was written."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import os, sys
from orchestrator.tflogs import stderr_captured
with stderr_captured():
    os.write(2, b"I0000 converter noise\\n")
print("quiet", flush=True)
try:
    with stderr_captured():
        os.write(2, b"E0000 the reason it failed\\n")
        raise RuntimeError("conversion failed")
except RuntimeError:
    pass
"""


def test_captured_lines_are_dropped_unless_the_block_fails() -> None:
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert result.stdout == "quiet\n"
    assert result.stderr == "E0000 the reason it failed\n"


def test_importing_orchestrator_sets_the_tensorflow_log_level() -> None:
    code = "import os, orchestrator; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    env = {"PATH": "/usr/bin:/bin"}
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout == "3\n"
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"  # the user's choice wins
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout == "0\n"


NOTES = """
import os
from orchestrator.tflogs import litert_notes_dropped
with litert_notes_dropped():
    os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
    os.write(2, b"a warning the user should see\\n")
try:
    with litert_notes_dropped():
        os.write(2, b"written before the failure\\n")
        raise RuntimeError("load failed")
except RuntimeError:
    pass
"""


def test_litert_start_up_note_is_dropped_and_everything_else_kept() -> None:
    result = subprocess.run([sys.executable, "-c", NOTES], capture_output=True, text=True, check=True)
    assert result.stderr == "a warning the user should see\nwritten before the failure\n"


def test_loading_a_real_pipeline_prints_no_litert_note(real_models, tmp_path) -> None:
    from helpers import REPO_ROOT, run_cli, shared_path

    video = shared_path("data/egodex/add_remove_lid_0.mp4")
    result = run_cli(
        "run", REPO_ROOT / "pipelines" / "hands_only.yaml", "--source", video, "--max-frames", "3",
        "--events", tmp_path / "e.jsonl", "-q",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
