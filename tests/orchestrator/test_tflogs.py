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
