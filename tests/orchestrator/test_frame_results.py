"""``orchestrator.run(..., with_frames=True)``: one `FrameResult` per frame, then the end result."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from helpers import REPO_ROOT
from helpers.scenes import scene_pipeline

import orchestrator
from orchestrator.errors import PipelineError, UserError
from orchestrator.frame_results import FrameResult

FRAMES = 12


def _without_timings(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    summary = {k: v for k, v in records[-1].items() if k not in ("wall_time_s", "fps", "detectors")}
    return [*records[:-1], summary]


@pytest.fixture()
def pipeline(tmp_path: Path) -> Path:
    """A hand that comes onto a cup on frame 2 and holds it to the end (the relation ends with the stream)."""
    hands = {i: [{"box": [100, 100, 160, 180], "score": 0.9}] for i in range(FRAMES)}
    objects = {i: [{"box": [110, 120, 150, 170], "score": 0.6, "label": "cup"}] for i in range(FRAMES)}
    relations = {
        "objects": {"detector": "objects", "tracker": {"type": "sort", "params": {"min_hits": 1}}},
        "report": {"holding": {"objects": ["cup"], "when": {"overlap": {"min_object_covered": 0.5}}}},
    }
    return scene_pipeline(tmp_path, hands, objects, relations, frames=FRAMES, records=("tracks",))


def test_one_result_per_frame_then_the_end_with_the_same_records_as_the_plain_run(pipeline: Path) -> None:
    results = list(orchestrator.run(pipeline, with_frames=True))
    frames, end = results[:-1], results[-1]
    assert [r.frame_index for r in frames] == list(range(FRAMES))
    assert all(isinstance(r, FrameResult) and not r.is_end for r in frames)
    # The records, concatenated, are the plain run's, in order (but for the summary's timings).
    plain = list(orchestrator.run(pipeline))
    joined = [record for result in results for record in result.records]
    assert _without_timings(joined) == _without_timings(plain)
    # Each frame's records are the ones fusion produced on it (a relation's start on the frame
    # that confirmed it, dated back to its onset); the relation held to the end ends in the end result.
    for result in frames:
        assert [r["frame"] for r in result.records if r["type"] == "tracks"] == [result.frame_index] * 2
        confirmed = [r["confirmed_frame"] for r in result.records if r["type"] == "relation.start"]
        assert confirmed in ([], [result.frame_index])
        assert result.scene is not None and result.scene.frame_index == result.frame_index
        assert result.time_s == pytest.approx(result.frame_index / 30)
    assert [r["type"] for r in end.records] == ["relation.end", "summary"]
    assert end.is_end and end.image is None and end.scene is None
    assert (end.frame_index, end.time_s) == (FRAMES - 1, pytest.approx((FRAMES - 1) / 30))
    starts = [r for r in joined if r["type"] == "relation.start"]
    assert len(starts) == 1 and starts[0] in frames[starts[0]["confirmed_frame"]].records


def test_images_are_the_source_frames_in_rgb_and_the_scene_matches_the_tracks(pipeline: Path) -> None:
    capture = cv2.VideoCapture(str(pipeline.parent / "clip.avi"))
    for result in orchestrator.run(pipeline, with_frames=True):
        if result.is_end:
            break
        ok, bgr = capture.read()
        assert ok
        assert result.image.shape == (240, 320, 3) and result.image.dtype == np.uint8
        assert not result.image.flags.writeable
        assert np.array_equal(result.image, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        hands = [r for r in result.records if r["type"] == "tracks" and r["detector"] == "hands"]
        scene_ids = sorted(t.track_id for t in result.scene.hands)
        assert scene_ids == sorted(t["track_id"] for t in hands[0]["tracks"]) if hands else scene_ids == []


def test_frames_without_records_still_get_a_result_and_the_run_waits_for_the_caller(tmp_path: Path) -> None:
    # No per-frame records: every frame's result has none, yet one comes per frame. The source is a
    # generator that counts what was pulled: while the caller holds a result, the run stays put
    # (bounded memory: the frame buffer, not the source, is what is read ahead).
    pulled = 0

    def frames():
        nonlocal pulled
        for _ in range(200):
            pulled += 1
            yield np.zeros((48, 64, 3), np.uint8)

    hands = {i: [{"box": [10, 10, 30, 30], "score": 0.9}] for i in range(200)}
    pipeline = scene_pipeline(tmp_path, hands, {}, {}, frames=2)
    results = orchestrator.run(pipeline, source=frames(), with_frames=True)
    first = next(results)
    # the stream's header comes with the first frame; no frame has records of its own
    assert first.frame_index == 0 and [r["type"] for r in first.records] == ["stream.start"]
    time.sleep(0.5)
    assert pulled < 40, f"the run read {pulled} frames ahead of a caller holding frame 0"
    rest = list(results)
    assert [r.frame_index for r in rest[:-1]] == list(range(1, 200))
    assert [r["type"] for r in rest[-1].records] == ["summary"]


def test_realtime_mode_gives_one_result_per_processed_frame(pipeline: Path) -> None:
    # Realtime: frames may be dropped and results come late; each processed frame still gets one
    # result, in order, and the records after the last frame (late results, ends) come at the end.
    results = list(orchestrator.run(pipeline, mode="realtime", with_frames=True))
    summary = results[-1].records[-1]
    indices = [r.frame_index for r in results[:-1]]
    assert summary["mode"] == "realtime" and len(indices) == summary["frames"]["processed"] > 0
    assert indices == sorted(set(indices))


def test_breaking_out_stops_the_run_and_joins_its_threads(pipeline: Path) -> None:
    before = threading.active_count()
    for result in orchestrator.run(pipeline, with_frames=True):
        assert result.frame_index == 0
        break
    assert threading.active_count() == before


def test_callback_gets_each_result_and_run_returns_the_summary(pipeline: Path) -> None:
    seen: list[FrameResult] = []
    summary = orchestrator.run(pipeline, with_frames=True, callback=seen.append)
    assert len(seen) == FRAMES + 1 and seen[-1].is_end
    assert summary["type"] == "summary" and summary is seen[-1].records[-1]


def test_a_failed_run_gives_the_end_result_then_raises(tmp_path: Path, pipeline: Path) -> None:
    text = pipeline.read_text().replace("fixture: hands.yaml", "fixture: hands.yaml\n      fail_at_frame: 3")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text)
    seen: list[FrameResult] = []
    with pytest.raises(PipelineError, match="failed on frame 3"):
        for result in orchestrator.run(broken, with_frames=True):
            seen.append(result)
    # Frames before the failure whose results were all in come first (how many depends on how far
    # the other detector's worker got before the stop), never the failed frame or a later one.
    indices = [r.frame_index for r in seen[:-1]]
    assert indices == [0, 1, 2][: len(indices)]
    assert seen[-1].is_end and seen[-1].records[-1]["status"] == "error"


def test_with_frames_must_be_a_bool(pipeline: Path) -> None:
    with pytest.raises(UserError, match="with_frames must be True or False, got 'yes'"):
        orchestrator.run(pipeline, with_frames="yes")  # type: ignore[call-overload]


def test_readme_with_frames_example(pipeline: Path, tmp_path: Path) -> None:
    """The README's example, as written, with the scripted pipeline and clip for the real ones."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-with-frames -->\n```python\n(.*?)```", readme, re.S)
    assert match, "README.md has no example-with-frames block"
    code = match.group(1)
    assert '"pipelines/table_scene.yaml"' in code and '"clip.mp4"' in code
    clip = pipeline.parent / "clip.avi"
    code = code.replace('"pipelines/table_scene.yaml"', repr(str(pipeline))).replace('"clip.mp4"', repr(str(clip)))
    (tmp_path / "out").mkdir()
    script = tmp_path / "out" / "starts.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=script.parent, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    # The hand holds the cup from frame 1 on; the relation is confirmed, and reported, on frame 3.
    assert result.stdout.splitlines() == ["0.10 s: holding_cup_3.png, hands [1]", "done: completed"]
    saved = cv2.imread(str(script.parent / "holding_cup_3.png"))
    capture = cv2.VideoCapture(str(clip))
    for _ in range(4):
        ok, bgr = capture.read()
    assert ok and np.array_equal(saved, bgr)
