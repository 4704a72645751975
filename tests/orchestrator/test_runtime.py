"""The threaded runtime: ordering, determinism, realtime drops, failures, signals, sources."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest
from helpers import REPO_ROOT, make_video, validate_records, write_fixture, write_pipeline

from detectors.detections import Detections
from detectors.detector import Detector
from orchestrator.config import load_pipeline
from orchestrator.errors import PipelineError, UserError
from orchestrator.events import dumps
from orchestrator.runtime import Runtime
from trackers.sort import SortTracker

SHARED = REPO_ROOT.parent / "shared"


class ProbeDetector(Detector):
    """Records what it was given: the frame index, the array's identity and a pixel (test-only)."""

    calls: ClassVar[dict[str, list[tuple[int, int, tuple[int, int, int]]]]] = {}
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"key": {"type": "string"}},
    }

    def __init__(self, key: str = "probe") -> None:
        self.key = key
        ProbeDetector.calls[key] = []

    def detect(self, image: np.ndarray) -> Detections:
        return Detections.empty()

    def detect_frame(self, image: np.ndarray, frame_index: int, time_s: float) -> Detections:
        # The pixel at the centre of the red rectangle helpers.make_video draws on frame 0.
        ProbeDetector.calls[self.key].append((frame_index, id(image), tuple(int(v) for v in image[55, 15])))
        return Detections.empty()


def _records(config_path: Path, **options: Any) -> list[dict[str, Any]]:
    return list(Runtime(load_pipeline(config_path), **options).records())


def _scripted_frames(n: int) -> dict[int, list[dict[str, Any]]]:
    """A hand moving right on every frame, a cup appearing on every 4th."""
    frames: dict[int, list[dict[str, Any]]] = {}
    for i in range(n):
        frames[i] = [{"box": [10 + i, 20, 60 + i, 90], "score": 0.9, "label": "hand"}]
        if i % 4 == 0:
            frames[i].append({"box": [150, 100, 190, 160], "score": 0.5, "label": "cup"})
    return frames


@pytest.fixture()
def jittery_pipeline(tmp_path: Path) -> Path:
    video = make_video(tmp_path / "clip.avi", frames=40)
    fixture = write_fixture(tmp_path / "boxes.yaml", _scripted_frames(40), labels=("hand", "cup"))
    return write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          hands:
            plugin: testing.scripted
            params: {{fixture: {fixture.name}, jitter_ms: 6}}
          objects:
            plugin: testing.scripted
            params: {{fixture: {fixture.name}, jitter_ms: 15}}
            schedule: {{every_n_frames: 4}}
          paced:
            plugin: testing.noop
            schedule: {{max_fps: 7.5}}
        outputs: {{records: [detections]}}
        runtime: {{frame_buffer: 3}}
        """,
    )


def test_deterministic_records_are_identical_under_random_worker_delays(jittery_pipeline: Path) -> None:
    runs = [_records(jittery_pipeline) for _ in range(3)]
    for records in runs:
        validate_records(records)
        assert records[-1]["type"] == "summary" and records[-1]["status"] == "completed"
    bodies = ["".join(dumps(r) for r in records[:-1]) for records in runs]
    assert bodies[0] == bodies[1] == bodies[2]
    assert runs[0][-1]["detectors"]["hands"]["latency_ms"]["p50"] > 0


def test_deterministic_order_and_schedules(jittery_pipeline: Path) -> None:
    records = _records(jittery_pipeline)[1:-1]
    keys = [(r["frame"], r["detector"]) for r in records]
    # Frame order, and within a frame the pipeline's detector order.
    order = {"hands": 0, "objects": 1, "paced": 2}
    assert keys == sorted(keys, key=lambda k: (k[0], order[k[1]]))
    ran = {name: [f for f, d in keys if d == name] for name in order}
    assert ran["hands"] == list(range(40))
    assert ran["objects"] == list(range(0, 40, 4))
    assert ran["paced"] == list(range(0, 40, 4))  # 7.5 fps of a 30 fps source: every 4th frame
    hand = next(r for r in records if r["frame"] == 7 and r["detector"] == "hands")
    assert hand["detections"] == [{"box": [17.0, 20.0, 67.0, 90.0], "score": 0.9, "class_id": 0, "label": "hand"}]
    assert hand["time"] == pytest.approx(7 / 30, abs=1e-6)


def test_frames_are_converted_to_rgb_once_and_shared(tmp_path: Path) -> None:
    """The reader keeps BGR; the first RGB detector on a frame converts it, the others share that array."""
    video = make_video(tmp_path / "clip.avi", frames=6)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          a: {{plugin: "{__name__}:ProbeDetector", params: {{key: a}}}}
          b: {{plugin: "{__name__}:ProbeDetector", params: {{key: b}}, schedule: {{every_n_frames: 2}}}}
        """,
    )
    _records(pipeline)
    a, b = ProbeDetector.calls["a"], ProbeDetector.calls["b"]
    assert [f for f, _, _ in a] == list(range(6)) and [f for f, _, _ in b] == [0, 2, 4]
    ids_a = {f: i for f, i, _ in a}
    # Frames 0 and 2 and 4 reached both workers as the very same array: one conversion, shared.
    assert all(ids_a[f] == i for f, i, _ in b)
    red, green, blue = a[0][2]
    assert red > 200 and green < 60 and blue < 60, "the detector must see RGB (red rectangle in the video)"


def test_realtime_slow_detector_drops_frames_with_bounded_memory(tmp_path: Path) -> None:
    # 90 frames at 120 fps (paced like a camera: 0.75 s) against a detector needing 40 ms a frame.
    video = make_video(tmp_path / "fast.avi", frames=90, fps=120)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          slow: {{plugin: testing.noop, params: {{delay_ms: 40}}}}
        outputs: {{records: [detections]}}
        runtime: {{mode: realtime, frame_buffer: 4}}
        """,
    )
    runtime = Runtime(load_pipeline(pipeline))
    records = list(runtime.records())
    validate_records(records)
    summary = records[-1]
    assert summary["mode"] == "realtime" and summary["status"] == "completed"
    assert summary["frames"]["read"] == 90
    slow = summary["detectors"]["slow"]
    assert slow["runs"] + slow["drops"] == 90
    assert slow["drops"] >= 45, "a 40 ms detector on a 120 fps source must skip most frames"
    assert runtime.peak_frames_held <= 4
    assert runtime.peak_results_held <= 4 * 4
    # Latest frame wins: runs are on increasing frames, and results never arrive for a frame twice.
    frames = [r["frame"] for r in records if r["type"] == "detections"]
    assert frames == sorted(set(frames))


def test_realtime_fusion_behind_evicts_and_counts_frames(tmp_path: Path) -> None:
    # Unpaced: the reader outruns a consumer that sleeps, so the store evicts the oldest frames.
    video = make_video(tmp_path / "clip.avi", frames=60)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          fast: {{plugin: testing.noop}}
        outputs: {{records: [detections]}}
        runtime: {{mode: realtime, frame_buffer: 2, pace: false}}
        """,
    )
    runtime = Runtime(load_pipeline(pipeline))
    records = []
    for record in runtime.records():
        records.append(record)
        time.sleep(0.01)
    summary = records[-1]
    assert summary["frames"]["read"] == 60
    assert summary["frames"]["dropped"] > 0
    assert summary["frames"]["processed"] + summary["frames"]["dropped"] == 60
    assert runtime.peak_frames_held <= 2


def _hands_pipeline(tmp_path: Path, hands_params: str = "", rest: str = "outputs: {records: [detections]}") -> Path:
    """A 30-frame clip, the scripted hand (and cup) boxes as detector ``hands``, then ``rest`` of the YAML."""
    video = make_video(tmp_path / "clip.avi", frames=30)
    fixture = write_fixture(tmp_path / "boxes.yaml", _scripted_frames(30), labels=("hand", "cup"))
    return write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          hands: {{plugin: testing.scripted, params: {{fixture: {fixture.name}{hands_params}}}}}
        {rest}
        """,
    )


def test_worker_exception_stops_the_run_naming_detector_and_frame(tmp_path: Path) -> None:
    pipeline = _hands_pipeline(tmp_path, ", fail_at_frame: 12")
    records: list[dict[str, Any]] = []
    with pytest.raises(PipelineError, match=r"detector 'hands' \(testing.scripted\) failed on frame 12"):
        for record in Runtime(load_pipeline(pipeline)).records():
            records.append(record)
    validate_records(records)
    assert records[0]["type"] == "stream.start"
    assert [r["frame"] for r in records[1:-1]] == list(range(12))
    assert records[-1]["status"] == "error" and "frame 12" in records[-1]["error"]


@pytest.mark.parametrize(("failing_frame", "when"), [(7, "after frame 6"), (0, "before the first frame")])
def test_a_failure_in_fusion_ends_the_run_with_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_frame: int, when: str
) -> None:
    # A bug in tracking or relations (the application's own code, after the workers) stops the run
    # like a failed worker: records so far, then a summary that says what failed, then the error.
    tracked = "tracker: {type: sort, detector: hands}\n        outputs: {records: [tracks]}"
    pipeline = _hands_pipeline(tmp_path, rest=tracked)
    update = SortTracker.update

    def failing(self: SortTracker, frame_index: int, *args: Any, **kwargs: Any) -> Any:
        if frame_index == failing_frame:
            raise ValueError("broken on purpose")
        return update(self, frame_index, *args, **kwargs)

    monkeypatch.setattr(SortTracker, "update", failing)
    records: list[dict[str, Any]] = []
    message = rf"fusing the detectors' results failed {when}: ValueError: broken on purpose"
    with pytest.raises(PipelineError, match=message):
        for record in Runtime(load_pipeline(pipeline)).records():
            records.append(record)
    validate_records(records)
    assert [r["frame"] for r in records[1:-1]] == list(range(failing_frame))
    assert records[-1]["type"] == "summary" and records[-1]["status"] == "error"
    assert "broken on purpose" in records[-1]["error"]


def test_worker_crash_through_the_cli_leaves_valid_output(tmp_path: Path, run_cli: Any) -> None:
    pipeline = _hands_pipeline(tmp_path, ", fail_at_frame: 5", "outputs: {records: [detections], events: out.jsonl}")
    result = run_cli("run", pipeline, cwd=tmp_path)
    assert result.returncode == 1
    assert "error: detector 'hands' (testing.scripted) failed on frame 5: RuntimeError" in result.stderr
    assert "Traceback" not in result.stderr
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    validate_records(records)
    assert records[-1]["type"] == "summary" and records[-1]["status"] == "error"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_cleanly_with_a_summary(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    video = make_video(tmp_path / "clip.avi", frames=300)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          slow: {{plugin: testing.noop, params: {{delay_ms: 20}}}}
        outputs: {{records: [detections]}}
        """,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", str(pipeline), "--events", "-"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    # The header comes once the first frame is read; a frame's record once one was processed.
    first = process.stdout.readline() + process.stdout.readline()
    assert '"stream.start"' in first.splitlines()[0] and '"detections"' in first.splitlines()[1]
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert "Traceback" not in err
    records = [json.loads(line) for line in (first + out).splitlines()]
    validate_records(records)
    summary = records[-1]
    assert summary["type"] == "summary" and summary["status"] == "interrupted"
    assert 1 <= summary["frames"]["processed"] < 300


def test_broken_pipe_ends_quietly(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.avi", frames=200)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          a: {{plugin: testing.noop}}
        outputs: {{records: [detections]}}
        """,
    )
    command = f"{sys.executable} -m orchestrator run {pipeline} --events - | head -n 2"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert "Traceback" not in result.stderr and "the reader closed the pipe" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such video file"),
        (b"", "video file is empty"),
        (os.urandom(4096), "not a video OpenCV can open"),
    ],
    ids=["missing", "empty", "corrupt"],
)
def test_bad_video_is_a_user_error(tmp_path: Path, content: bytes | None, message: str) -> None:
    video = tmp_path / "clip.mp4"
    if content is not None:
        video.write_bytes(content)
    pipeline = write_pipeline(tmp_path / "p.yaml", "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n")
    with pytest.raises(UserError, match=message) as info:
        list(Runtime(load_pipeline(pipeline), source=str(video)).records())
    assert str(video) in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root, which can read a chmod 000 file")
def test_unreadable_video_is_a_user_error(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.avi", frames=3)
    video.chmod(0)
    pipeline = write_pipeline(tmp_path / "p.yaml", "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n")
    with pytest.raises(UserError, match="permission denied"):
        list(Runtime(load_pipeline(pipeline), source=str(video)).records())


def test_image_folder_in_natural_order_and_undecodable_image(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for i in (1, 2, 10):
        image = np.zeros((72, 64, 3), np.uint8)
        image[:, :, 2] = i  # BGR red channel encodes the index
        cv2.imwrite(str(folder / f"img{i}.png"), image)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: images, fps: 10}}
        detectors:
          probe: {{plugin: "{__name__}:ProbeDetector", params: {{key: folder}}}}
        """,
    )
    records = _records(pipeline)
    assert [pixel[0] for _, _, pixel in ProbeDetector.calls["folder"]] == [1, 2, 10]  # natural order, RGB
    assert records[-1]["frames"]["processed"] == 3 and records[-1]["mode"] == "deterministic"
    assert records[-1]["time"] == pytest.approx(0.2)
    (folder / "img20.png").write_bytes(b"not a png")
    summary = _records(pipeline)[-1]  # skipped, counted and named (source.on_bad_frame: skip, the default)
    assert summary["status"] == "truncated" and summary["frames"]["processed"] == 3
    assert summary["frames"]["skipped"] == 1 and summary["skipped_files"] == ["img20.png"]


def test_max_frames_and_source_override(tmp_path: Path, small_video: Path) -> None:
    pipeline = write_pipeline(tmp_path / "p.yaml", "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n")
    records = _records(pipeline, source=str(small_video), max_frames=7)
    assert records[-1]["frames"] == {"read": 7, "processed": 7, "dropped": 0, "skipped": 0, "expected": 30}
    assert records[-1]["status"] == "completed"  # the frames asked for: not a truncated source
    with pytest.raises(UserError, match="no source"):
        Runtime(load_pipeline(pipeline))


def test_no_threads_leak_across_runs(tmp_path: Path, small_video: Path) -> None:
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n  b: {plugin: testing.noop, params: {delay_ms: 1}}\n",
    )
    before = threading.active_count()
    for _ in range(3):
        _records(pipeline, source=str(small_video))
    # Closing an iterator half-way must also stop and join every thread.
    iterator = Runtime(load_pipeline(pipeline), source=str(small_video)).records()
    next(iterator)
    iterator.close()
    assert threading.active_count() == before


@pytest.mark.skipif(
    not (SHARED / "data" / "egodex" / "add_remove_lid_0.mp4").exists(),
    reason=f"real clip not found: {SHARED / 'data' / 'egodex' / 'add_remove_lid_0.mp4'}",
)
def test_real_clip_runs_deterministically(tmp_path: Path) -> None:
    clip = SHARED / "data" / "egodex" / "add_remove_lid_0.mp4"
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: "{clip}"}}
        detectors:
          probe: {{plugin: "{__name__}:ProbeDetector", params: {{key: real}}}}
          noop: {{plugin: testing.noop, schedule: {{every_n_frames: 5}}}}
        outputs: {{records: [detections]}}
        """,
    )
    first = _records(pipeline, max_frames=30)
    second = _records(pipeline, max_frames=30)
    validate_records(first)
    assert first[-1]["frames"]["processed"] == 30
    assert [dumps(r) for r in first[:-1]] == [dumps(r) for r in second[:-1]]
    assert first[-1]["source"] == str(clip)


def _tracking_pipeline(tmp_path: Path, every_n: int, mode: str = "deterministic", delay_ms: float = 0) -> Path:
    video = make_video(tmp_path / "clip.avi", frames=30, fps=30)
    # One hand moving 3 px right per frame, observed only on the frames the schedule selects.
    frames = {i: [{"box": [20 + 3 * i, 40, 80 + 3 * i, 120], "score": 0.9}] for i in range(30)}
    fixture = write_fixture(tmp_path / "hand.yaml", frames)
    return write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          hands:
            plugin: testing.scripted
            params: {{fixture: {fixture.name}, delay_ms: {delay_ms}}}
            schedule: {{every_n_frames: {every_n}}}
        tracker: {{type: sort, detector: hands, params: {{min_hits: 2}}}}
        outputs: {{records: [tracks]}}
        runtime: {{mode: {mode}}}
        """,
    )


def test_tracks_fill_the_frames_between_detections(tmp_path: Path) -> None:
    records = _records(_tracking_pipeline(tmp_path, every_n=3))
    validate_records(records)
    tracks = {r["frame"]: r["tracks"] for r in records if r["type"] == "tracks"}
    assert sorted(tracks) == list(range(30)), "a tracks record on every frame"
    for frame in range(6, 30):  # confirmed at frame 3 (2nd hit); velocity known from then on
        (track,) = tracks[frame]
        assert track["track_id"] == 1
        assert track["box_source"] == ("observed" if frame % 3 == 0 else "predicted")
        assert track["frames_since_observed"] == frame % 3
        assert track["box"][0] == pytest.approx(20 + 3 * frame, abs=0.05), f"frame {frame}"


def test_realtime_late_results_are_applied_at_their_frame(tmp_path: Path) -> None:
    # A 50 ms detector on a 30 fps file: every result arrives one or two frames late.
    records = _records(_tracking_pipeline(tmp_path, every_n=1, mode="realtime", delay_ms=50))
    validate_records(records)
    tracks = [r for r in records if r["type"] == "tracks"]
    assert [r["frame"] for r in tracks] == sorted({r["frame"] for r in tracks})
    confirmed = [(r["frame"], t) for r in tracks for t in r["tracks"]]
    assert confirmed, "the hand must be tracked"
    assert {t["track_id"] for _, t in confirmed} == {1}
    # Late results never show as observed on the frame where they arrived, and predictions follow
    # the motion: boxes stay close to the truth at every frame.
    assert any(t["box_source"] == "predicted" for _, t in confirmed)
    for frame, track in confirmed:
        assert track["box"][0] == pytest.approx(20 + 3 * frame, abs=4.0), f"frame {frame}"


class ShiftStage(Detector):
    """A test second stage: its input's boxes moved 100 px right (still in the frame); fails on ``fail_at_frame``."""

    takes_input: ClassVar[bool] = True
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"fail_at_frame": {"type": "integer"}},
    }
    frames: ClassVar[list[int]] = []

    def __init__(self, fail_at_frame: int = -1) -> None:
        self.fail_at_frame = fail_at_frame
        self._frame = 0
        ShiftStage.frames = []

    def detect(self, image: np.ndarray) -> Detections:
        return Detections.empty()

    def detect_on(self, image: np.ndarray, detections: Detections) -> Detections:
        # The input's worker calls the stage right after the input, frame by frame: count them here.
        frame = len(ShiftStage.frames)
        ShiftStage.frames.append(frame)
        if frame == self.fail_at_frame:
            raise RuntimeError("stage broke")
        moved = detections.boxes + np.array([100, 0, 100, 0], np.float32)
        return Detections(moved, detections.scores, detections.class_ids, detections.labels)


def _stage_pipeline(tmp_path: Path, stage_params: str = "{}") -> Path:
    video = make_video(tmp_path / "clip.avi", frames=12)
    fixture = write_fixture(tmp_path / "boxes.yaml", _scripted_frames(12), labels=("hand", "cup"))
    return write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: {video.name}}}
        detectors:
          boxes: {{plugin: testing.scripted, params: {{fixture: {fixture.name}}}, schedule: {{every_n_frames: 3}}}}
          shifted: {{plugin: "{__name__}:ShiftStage", input: boxes, params: {stage_params}}}
        outputs: {{records: [detections]}}
        """,
    )


def test_second_stage_runs_after_its_input_on_the_same_frames(tmp_path: Path) -> None:
    records = _records(_stage_pipeline(tmp_path))
    validate_records(records)
    detections = [r for r in records if r["type"] == "detections"]
    by_detector: dict[str, dict[int, list]] = {}
    for record in detections:
        by_detector.setdefault(record["detector"], {})[record["frame"]] = record["detections"]
    assert sorted(by_detector["boxes"]) == sorted(by_detector["shifted"]) == [0, 3, 6, 9]
    for frame, found in by_detector["boxes"].items():
        shifted = by_detector["shifted"][frame]
        assert [d["box"][0] + 100 for d in found] == [d["box"][0] for d in shifted]
    summary = records[-1]["detectors"]
    assert (summary["boxes"]["runs"], summary["shifted"]["runs"], summary["shifted"]["drops"]) == (4, 4, 0)
    assert records[:-1] == _records(_stage_pipeline(tmp_path))[:-1]  # deterministic (the summary has timings)


def test_second_stage_failure_stops_the_run_naming_it(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"detector 'shifted' \(.*ShiftStage\) failed on frame 3: RuntimeError"):
        _records(_stage_pipeline(tmp_path, "{fail_at_frame: 1}"))
