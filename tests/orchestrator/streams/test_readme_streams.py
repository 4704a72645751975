"""The README's several-streams pipeline: valid as written, and its shape runs over two clips."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import REPO_ROOT, make_video, run_cli

from orchestrator.config import load_pipeline
from orchestrator.config.spec import StreamSource


def _readme_pipeline() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-streams -->\n```yaml\n(.*?)```", readme, re.S)
    assert match, "README.md has no example-streams block"
    return match.group(1)


def test_the_readme_pipeline_is_valid_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAM_RIGHT", raising=False)
    path = tmp_path / "station.yaml"
    path.write_text(_readme_pipeline(), encoding="utf-8")
    config = load_pipeline(path)
    assert config.sources == (
        StreamSource("cam_left", 0),
        StreamSource("cam_right", "rtsp://192.168.1.20/stream1"),
    )
    assert config.source.timeout_s == 5 and config.outputs.events == str(tmp_path / "station.jsonl")


def test_the_readme_pipeline_runs_over_two_clips(tmp_path: Path) -> None:
    """The same pipeline with its cameras replaced by clips and MediaPipe by a scripted detector."""
    data = yaml.safe_load(_readme_pipeline())
    data["sources"] = {"cam_left": "left.avi", "cam_right": "right.avi"}
    data["detectors"]["hands"] = {"plugin": "testing.scripted", "params": {"fixture": "hands.yaml"}}
    (tmp_path / "hands.yaml").write_text(
        "labels: [hand]\ndefault: [{box: [10, 10, 40, 40], score: 0.9, label: hand}]\n", encoding="utf-8"
    )
    make_video(tmp_path / "left.avi", frames=6, size=(96, 64))
    make_video(tmp_path / "right.avi", frames=4, size=(96, 64))
    (tmp_path / "station.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run_cli("run", "station.yaml", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "station.jsonl").read_text(encoding="utf-8").splitlines()]
    tracks = {name: [r["frame"] for r in records if r["type"] == "tracks" and r.get("stream") == name]
              for name in ("cam_left", "cam_right")}  # fmt: skip
    assert tracks == {"cam_left": list(range(6)), "cam_right": list(range(4))}
    # Each stream has its own tracker: both start their ids at 1.
    first = {r["stream"]: r["tracks"][0]["track_id"] for r in records if r["type"] == "tracks" and r["frame"] == 0}
    assert first == {"cam_left": 1, "cam_right": 1}
