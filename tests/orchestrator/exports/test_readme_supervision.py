"""The README's supervision example runs: the embedding API's tracks drawn by supervision's annotators.

It runs as written, with the pipeline and the clip replaced by the scripted run's (the README's
pipeline needs the real models), and its video must show the boxes where the tracks are.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import REPO_ROOT

from orchestrator.exports.events_file import read_events

pytest.importorskip("supervision", reason="needs the optional supervision extra (pip install .[supervision])")


def _frames(path: Path) -> list[np.ndarray]:
    import cv2

    video = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = video.read()
        if not ok:
            return frames
        frames.append(image)


def test_readme_supervision_example(scripted_run: Any, tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-supervision -->\n```python\n(.*?)```", readme, re.S)
    assert match, "README.md has no example-supervision block"
    code = match.group(1)
    assert '"pipelines/table_scene.yaml"' in code and '"clip.mp4"' in code
    code = code.replace('"pipelines/table_scene.yaml"', repr(str(scripted_run.pipeline)))
    code = code.replace('"clip.mp4"', repr(str(scripted_run.video)))
    script = tmp_path / "annotate.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    annotated, source = _frames(tmp_path / "annotated.mp4"), _frames(scripted_run.video)
    assert len(annotated) == len(source) == 40
    # On the last frame the left hand's track is at x 180..240, y 100..180 (as in the events file):
    # supervision's box edge is drawn there, and nowhere near the empty top-left corner.
    last = [r for r in read_events(scripted_run.events).of_type("tracks") if r["detector"] == "hands"][-1]
    x1, _, x2, y2 = (round(v) for v in next(t for t in last["tracks"] if t.get("side") == "left")["box"])
    difference = np.abs(annotated[-1].astype(int) - source[-1].astype(int)).sum(axis=2)
    assert difference[y2 - 2 : y2 + 1, x1 + 10 : x2 - 10].mean() > 60
    assert difference[0:20, 0:20].mean() < 15
