"""``bench-streams``: the table's shape on a tiny clip (figures themselves are measured, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli
from helpers.scenes import scene_pipeline

HANDS = {i: [{"box": [40 + 4 * i, 60, 120 + 4 * i, 160], "score": 0.9}] for i in range(10)}
OBJECTS = {i: [{"box": [150, 100, 190, 160], "score": 0.6, "label": "cup"}] for i in range(10)}
RELATIONS = {
    "objects": {"detector": "objects"},
    "report": {"holding": {"when": {"overlap": {"min_object_covered": 0.5}}}},
}


def test_one_process_and_separate_processes_over_all_streams(tmp_path: Path) -> None:
    pipeline = scene_pipeline(tmp_path, HANDS, OBJECTS, RELATIONS, frames=10)
    result = run_cli("bench-streams", pipeline, "--source", "clip.avi", "--streams", "2", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [(row["streams"], row["run"], row["frames"]) for row in out["rows"]] == [
        (2, "one process", 20),
        (2, "2 processes", 20),
    ]
    assert all(row["fps"] > 0 and row["wall_s"] > 0 and row["peak_rss_mb"] > 10 for row in out["rows"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--streams", "1,x"), "expected stream counts such as 1,2,4, got 'x'"),
        (("--streams", "0"), "a stream count must be 1 to 64, got 0"),
        (("--source", "missing.avi"), "--source missing.avi: no such video file"),
        (("--source", "garbage.mp4"), "not a video OpenCV can open"),  # refused before any run starts
    ],
)
def test_bad_arguments_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    (tmp_path / "garbage.mp4").write_bytes(bytes(range(256)) * 16)
    pipeline = scene_pipeline(tmp_path, HANDS, OBJECTS, RELATIONS, frames=2)
    result = run_cli("bench-streams", pipeline, "--source", "clip.avi", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""
