"""The example consumer in the README runs, on a real event stream, and reacts to relation starts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from helpers import DATA_DIR, REPO_ROOT


def test_readme_example_consumer(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-consumer -->\n```python\n(.*?)```", readme, re.S)
    assert match, "README.md has no example consumer block"
    script = tmp_path / "consumer.py"
    script.write_text(match.group(1), encoding="utf-8")
    stream = (DATA_DIR / "golden" / "two_hands_two_objects.jsonl").read_text(encoding="utf-8")
    summary = (
        '{"schema":"orchestrator.events/1","seq":99,"type":"summary","frames":{"processed":40},"status":"completed"}'
    )
    result = subprocess.run(
        [sys.executable, str(script)], input=stream + summary + "\n", capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "clip.avi: 320x240, pipeline p"  # from the stream's header
    assert lines[1] == "  0.03 s  hand 1 near cup"
    assert sum("stopped" in line for line in lines) == 4
    assert lines[-1] == "done: 40 frames, status completed"
