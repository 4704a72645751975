"""The stream's header (``stream.start``, issue 14 point 2): what a consumer learns before any frame's records."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO_ROOT, make_video, run_cli, validate_records, write_fixture, write_pipeline
from helpers.scenes import scene_pipeline

from orchestrator.config import load_pipeline
from orchestrator.events import dumps
from orchestrator.runtime import Runtime

RELATIONS: dict[str, Any] = {
    "objects": {"detector": "objects"},
    "report": {
        "holding": {"when": {"overlap": {"min_object_covered": 0.5}}},
        "near": {"when": {"near": {"max_gap": 0.5}}},
    },
}


def _scene(folder: Path, **options: Any) -> Path:
    """A 12-frame 320x240 clip, a hand at rest on a cup: scripted detectors, a tracker, relations."""
    hands = {i: [{"box": [100, 100, 160, 180], "score": 0.9, "label": "hand"}] for i in range(12)}
    cups = {i: [{"box": [110, 120, 150, 170], "score": 0.6, "label": "cup"}] for i in range(12)}
    return scene_pipeline(folder, hands, cups, RELATIONS, frames=12, records=("tracks", "detections"), **options)


def _records(pipeline: Path, **options: Any) -> list[dict[str, Any]]:
    return list(Runtime(load_pipeline(pipeline), **options).records())


def test_the_header_is_the_first_record_and_says_what_the_stream_is(tmp_path: Path) -> None:
    records = _records(_scene(tmp_path))
    validate_records(records)
    header = records[0]
    assert [r["type"] for r in records].count("stream.start") == 1
    assert (header["type"], header["seq"], header["frame"], header["time"]) == ("stream.start", 0, 0, 0.0)
    assert "file" not in header  # a video: no image names
    assert header["source"] == {"name": "clip.avi", "kind": "video", "fps": 30.0, "fps_stated": 30.0, "frame_count": 12}
    assert (header["width"], header["height"]) == (320, 240)
    assert header["pipeline"]["name"] == "p" and len(header["pipeline"]["sha256"]) == 64
    assert header["mode"] == "deterministic"
    assert header["records"] == ["detections", "tracks"]  # sorted
    assert header["relations"] == ["holding", "near"]
    no_model = {"model": None, "precision": None, "runtime": None}
    assert header["detectors"] == {
        "hands": {"plugin": "testing.scripted", **no_model},
        "objects": {"plugin": "testing.scripted", **no_model},
    }
    assert header["version"] == metadata.version("hands-orchestrator")
    # The rate measured from the frames' timestamps is the summary's: it needs the frames read.
    assert records[-1]["source_fps_measured"] == pytest.approx(30.0, abs=0.01)


def test_the_same_pipeline_in_another_folder_gives_the_same_header_byte_for_byte(tmp_path: Path) -> None:
    """No absolute path goes into the header: the fixture files count by their bytes, the video by its name."""
    one, two = (_records(_scene(tmp_path / name)) for name in ("a", "elsewhere/b"))
    assert dumps(one[0]) == dumps(two[0])
    # And the hash follows what the pipeline does: another fixture (one box moved) is another pipeline.
    objects = {0: [{"box": [0, 0, 9, 9], "score": 0.6, "label": "cup"}]}
    write_fixture(tmp_path / "a" / "objects.yaml", objects, labels=("person", "cup", "bottle"))
    moved = _records(tmp_path / "a" / "p.yaml")
    assert moved[0]["pipeline"]["sha256"] != one[0]["pipeline"]["sha256"]


def test_size_is_the_frames_the_detectors_see(tmp_path: Path) -> None:
    make_video(tmp_path / "clip.avi", frames=3, size=(320, 240))
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: clip.avi, resize: [160, 120], fps: 25}
        detectors:
          a: {plugin: testing.noop}
        """,
    )
    header = _records(pipeline)[0]
    assert (header["width"], header["height"]) == (160, 120)  # boxes are in these pixels
    assert (header["source"]["fps"], header["source"]["fps_stated"]) == (25.0, 30.0)


def test_a_run_without_frames_still_opens_with_the_header(tmp_path: Path) -> None:
    records = _records(_scene(tmp_path), max_frames=0)
    validate_records(records)
    assert [r["type"] for r in records] == ["stream.start", "summary"]
    assert (records[0]["width"], records[0]["height"]) == (None, None)
    assert records[-1]["source_fps_measured"] is None


def test_realtime_mode_has_the_header_too(tmp_path: Path) -> None:
    records = _records(_scene(tmp_path), mode="realtime")
    validate_records(records)
    assert records[0]["type"] == "stream.start" and records[0]["mode"] == "realtime"
    assert records[0]["width"] == 320


def test_frames_of_your_own_are_named_frames(tmp_path: Path) -> None:
    import numpy as np

    import orchestrator

    pipeline = write_pipeline(tmp_path / "p.yaml", "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n")
    frames = [np.zeros((30, 40, 3), np.uint8)] * 3
    header = next(iter(orchestrator.run(pipeline, source=frames)))
    assert header["source"] == {"name": "frames", "kind": "frames", "fps": 30.0, "fps_stated": None, "frame_count": 3}
    assert (header["width"], header["height"]) == (40, 30)


def test_the_command_line_writes_the_header_first(tmp_path: Path) -> None:
    pipeline = _scene(tmp_path)
    result = run_cli("run", pipeline, "--events", "-", "-q")
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout.splitlines()[0])
    assert first["type"] == "stream.start" and first["source"]["name"] == "clip.avi"


def test_the_header_names_each_detectors_model_package_precision_and_runtime(tmp_path: Path, real_models: Path) -> None:
    make_video(tmp_path / "clip.avi", frames=2)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: clip.avi}
        detectors:
          boxes: {plugin: hands.egohands}              # precision auto: int8, built by the fixture
          hands: {plugin: hands.mediapipe.landmarks, input: boxes}
          objects: {plugin: objects.coco.centernet}
        """,
    )
    header = _records(pipeline, max_frames=1)[0]
    mediapipe = {"model": "@mediapipe/hands@0.4.1675469240", "precision": "fp32", "runtime": "litert"}
    assert header["detectors"] == {
        "boxes": {"plugin": "hands.egohands", "model": "handtrackjs@0.0.13", "precision": "int8", "runtime": "litert"},
        "hands": {"plugin": "hands.mediapipe.landmarks", **mediapipe},
        "objects": {
            "plugin": "objects.coco.centernet",
            "model": "@vladmandic/human@3.3.6",
            "precision": "fp32",
            "runtime": "litert",
        },
    }


def _readme_section() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"\n### Stream header\n(.*?)\n## ", readme, re.S)
    assert match, "README.md has no Stream header section"
    return match.group(1)


def test_readme_example_header_is_a_valid_record() -> None:
    match = re.search(r"```\n(\{.*?\})\n```", _readme_section(), re.S)
    assert match, "the Stream header section shows no header record"
    header = json.loads(match.group(1))
    validate_records([header])
    assert header["type"] == "stream.start" and header["source"]["name"] == "add_remove_lid_0.mp4"


def test_readme_header_consumer_places_tracks_in_fractions_of_the_frame(tmp_path: Path) -> None:
    match = re.search(r"<!-- example-header -->\n```python\n(.*?)```", _readme_section(), re.S)
    assert match, "the Stream header section has no example-header block"
    script = tmp_path / "centres.py"
    script.write_text(match.group(1), encoding="utf-8")
    run = run_cli("run", _scene(tmp_path), "--events", "-", "-q")
    assert run.returncode == 0, run.stderr
    result = subprocess.run([sys.executable, str(script)], input=run.stdout, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "clip.avi: 320x240 at 30 fps"
    # The hand box [100, 100, 160, 180] of a 320x240 frame: centre (130, 140); the cup [110, 120, 150, 170]
    # tracked by the relations' object tracker. Both tracks are confirmed on their second frame, frame 1.
    assert lines[1:3] == ["frame 1 hands #1: 0.406, 0.583", "frame 1 objects #1: 0.406, 0.604"]
    assert len(lines) == 1 + 2 * 11
    # A stream without the header is refused in one line.
    headless = "".join(line + "\n" for line in run.stdout.splitlines()[1:])
    result = subprocess.run([sys.executable, str(script)], input=headless, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "no stream.start record first" in result.stderr
