"""Frames are never silently lost, and the summary says how the source ended (issue 12, points 3 and 5).

A scripted `Source` stands in for the real ones (``tests/orchestrator/test_sources_*`` test those): it
delivers frames and then ends the way a damaged file, a lost stream or a failing folder does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import make_video, shared_path, validate_records, write_fixture, write_pipeline

import orchestrator.runtime
from orchestrator.cli import main
from orchestrator.config import load_pipeline
from orchestrator.errors import PipelineError
from orchestrator.runtime import Runtime
from orchestrator.sources import Source


class ScriptedSource(Source):
    """``frames`` frames of 64x48, then the end ``end`` (``(status, error)``), or ``raise_at`` an exception."""

    kind = "scripted"

    def __init__(self, frames: int, end: tuple[str, str | None], skipped: int = 0, raise_at: int | None = None):
        super().__init__("scripted://clip", 10.0)
        self.frame_count = frames
        self._frames, self._end_as, self._raise_at, self._i = frames, end, raise_at, 0
        for index in range(skipped):
            self._skip(f"bad{index}.png")

    def _next(self) -> tuple[np.ndarray, float] | None:
        if self._i == self._raise_at:
            raise OSError(f"device gone at frame {self._i}")
        if self._i >= self._frames:
            return self._end(*self._end_as)
        self._i += 1
        return np.full((48, 64, 3), self._i, np.uint8), (self._i - 1) / self.fps


def _pipeline(tmp_path: Path, detector: str = "{plugin: testing.noop}", mode: str = "deterministic") -> Path:
    return write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: scripted://clip}}
        detectors:
          a: {detector}
        outputs: {{records: [detections]}}
        runtime: {{mode: {mode}}}
        """,
    )


def _use(monkeypatch: pytest.MonkeyPatch, source: ScriptedSource) -> None:
    monkeypatch.setattr(orchestrator.runtime, "open_source", lambda *args, **kwargs: source)


def _run(pipeline: Path) -> tuple[list[dict[str, Any]], PipelineError | None]:
    records: list[dict[str, Any]] = []
    try:
        for record in Runtime(load_pipeline(pipeline)).records():
            records.append(record)
    except PipelineError as exc:
        return records, exc
    return records, None


@pytest.mark.parametrize(
    ("end", "skipped", "status", "fails"),
    [
        (("completed", None), 0, "completed", False),
        (("truncated", None), 3, "truncated", False),
        (("source_lost", "scripted://clip: gone after 5 reconnect attempts"), 0, "source_lost", True),
        (("error", "bad7.png: cannot decode image"), 0, "error", True),
    ],
    ids=["completed", "truncated", "source_lost", "error"],
)
@pytest.mark.parametrize("mode", ["deterministic", "realtime"])
def test_the_summary_says_how_the_source_ended_after_every_frame_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    end: tuple[str, str | None],
    skipped: int,
    status: str,
    fails: bool,
    mode: str,
) -> None:
    _use(monkeypatch, ScriptedSource(6, end, skipped=skipped))
    records, error = _run(_pipeline(tmp_path, mode=mode))
    validate_records(records)
    summary = records[-1]
    assert summary["status"] == status and summary["error"] == end[1]
    assert (error is not None) == fails and (not fails or str(error) == end[1])
    # Every frame read before the end is processed and written, also when the source failed.
    assert summary["frames"] == {"read": 6, "processed": 6, "dropped": 0, "skipped": skipped, "expected": None}
    assert summary["skipped_files"] == [f"bad{i}.png" for i in range(skipped)]
    if mode == "deterministic":
        # ScriptedSource skips its images before the first frame: the frames read keep their positions.
        assert [r["frame"] for r in records if r["type"] == "detections"] == list(range(skipped, skipped + 6))


@pytest.mark.parametrize("mode", ["deterministic", "realtime"])
def test_frames_read_before_a_source_exception_are_written_before_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    _use(monkeypatch, ScriptedSource(10, ("completed", None), raise_at=5))
    records, error = _run(_pipeline(tmp_path, mode=mode))
    validate_records(records)
    assert str(error) == "source scripted://clip: failed at frame 5: OSError: device gone at frame 5"
    summary = records[-1]
    assert summary["status"] == "error" and summary["frames"]["processed"] == 5  # was 0 of 5
    if mode == "deterministic":
        assert [r["frame"] for r in records if r["type"] == "detections"] == [0, 1, 2, 3, 4]


def test_a_corrupt_image_stops_a_folder_after_the_images_before_it(tmp_path: Path) -> None:
    """The real folder source with ``on_bad_frame: stop``: five images, then one that does not decode."""
    import cv2

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(5):
        cv2.imwrite(str(folder / f"img{i}.png"), np.full((40, 50, 3), i, np.uint8))
    (folder / "img5.png").write_bytes(b"not a png")
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: images, on_bad_frame: stop}
        detectors:
          a: {plugin: testing.noop}
        outputs: {records: [detections]}
        """,
    )
    records, error = _run(pipeline)
    assert error is not None and "img5.png" in str(error)
    assert records[-1]["status"] == "error" and records[-1]["frames"]["processed"] == 5
    assert [r["frame"] for r in records if r["type"] == "detections"] == [0, 1, 2, 3, 4]


def test_frame_indexes_jump_over_skipped_video_frames(tmp_path: Path) -> None:
    """zeroed_mid.mp4: frames 17-20 do not decode; the frames after them keep their numbers and times."""
    video = shared_path("cases/truncated-video/zeroed_mid.mp4")
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: "{video}"}}
        detectors:
          a: {{plugin: testing.noop}}
        outputs: {{records: [detections]}}
        """,
    )
    records, error = _run(pipeline)
    validate_records(records)
    assert error is None
    detections = [r for r in records if r["type"] == "detections"]
    assert [r["frame"] for r in detections] == [*range(17), *range(21, 30)]  # it was 0-25
    assert all(r["time"] == pytest.approx(r["frame"] / 30, abs=1e-3) for r in detections)
    summary = records[-1]
    assert summary["status"] == "truncated" and summary["frame"] == 29
    assert summary["frames"] == {"read": 26, "processed": 26, "dropped": 0, "skipped": 4, "expected": 30}


def test_folder_records_name_their_image_and_keep_positions_over_a_skipped_one(tmp_path: Path) -> None:
    """A folder with an undecodable image in the middle: every per-frame record names its file."""
    import cv2

    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("frame_1.png", "frame_2.png", "frame_10.png"):
        cv2.imwrite(str(folder / name), np.zeros((40, 50, 3), np.uint8))
    (folder / "frame_3.png").write_bytes(b"not a png")
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: images}
        detectors:
          a: {plugin: testing.noop}
        tracker: {type: sort, detector: a}
        outputs: {records: [detections, tracks]}
        """,
    )
    records, error = _run(pipeline)
    validate_records(records)
    assert error is None and records[-1]["status"] == "truncated"
    per_frame = [(r["type"], r["frame"], r["file"]) for r in records if r["type"] in ("detections", "tracks")]
    assert per_frame == [
        ("detections", 0, "frame_1.png"),
        ("tracks", 0, "frame_1.png"),
        ("detections", 1, "frame_2.png"),
        ("tracks", 1, "frame_2.png"),
        ("detections", 3, "frame_10.png"),  # frame_3.png, position 2, was skipped
        ("tracks", 3, "frame_10.png"),
    ]
    header, summary = records[0], records[-1]
    assert "file" not in header and "file" not in summary
    assert header["source"] == {"name": "images", "kind": "images", "fps": 30.0, "fps_stated": None, "frame_count": 4}
    assert (header["width"], header["height"]) == (50, 40)


@pytest.mark.parametrize("on_error", ["skip", "stop", None])
def test_on_error_skips_the_frame_or_stops_the_run(tmp_path: Path, on_error: str | None) -> None:
    make_video(tmp_path / "clip.avi", frames=12)
    write_fixture(tmp_path / "boxes.yaml", {i: [{"box": [10, 10, 30, 30], "score": 0.9}] for i in range(12)})
    option = f", on_error: {on_error}" if on_error else ""
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        f"""
        version: 1
        source: {{uri: clip.avi}}
        detectors:
          hands: {{plugin: testing.scripted, params: {{fixture: boxes.yaml, fail_at_frame: 4}}{option}}}
        outputs: {{records: [detections]}}
        """,
    )
    records, error = _run(pipeline)
    validate_records(records)
    summary, stats = records[-1], records[-1]["detectors"]["hands"]
    message = "detector 'hands' (testing.scripted) failed on frame 4: RuntimeError: scripted failure at frame 4"
    if on_error == "skip":
        assert error is None and summary["status"] == "completed"
        assert stats["errors"] == 1 and stats["runs"] == 11 and stats["drops"] == 0
        assert stats["first_error"] == message
        found = {r["frame"]: r["detections"] for r in records if r["type"] == "detections"}
        assert sorted(found) == list(range(12)) and found[4] == [] and len(found[5]) == 1
    else:  # stop, the default: the run ends naming the detector and the frame
        assert str(error) == message and summary["status"] == "error" and stats["errors"] == 0
        assert summary["frames"]["processed"] == 4


def test_a_failing_frame_hook_ends_the_run_with_a_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A video writer that fails (the hook fusion calls per frame) no longer cuts the events short."""
    _use(monkeypatch, ScriptedSource(8, ("completed", None)))
    runtime = Runtime(load_pipeline(_pipeline(tmp_path)))

    def on_frame(frame: Any, scene: Any) -> None:
        if frame.index == 2:
            raise PipelineError("renderer failed on frame 2: ValueError: frame size")

    runtime.on_frame = on_frame
    records: list[dict[str, Any]] = []
    with pytest.raises(PipelineError, match="renderer failed on frame 2"):
        for record in runtime.records():
            records.append(record)
    validate_records(records)
    assert records[-1]["type"] == "summary" and records[-1]["status"] == "error"
    assert records[-1]["error"] == "renderer failed on frame 2: ValueError: frame size"


@pytest.mark.parametrize(
    ("end", "code", "first_word"),
    [
        (("truncated", None), 0, "truncated:"),
        (("source_lost", "scripted://clip: gone after 5 reconnect attempts"), 1, "source_lost:"),
        (("error", "bad7.png: cannot decode image"), 1, "error:"),
    ],
)
def test_run_exit_code_follows_the_source_end(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    end: tuple[str, str | None],
    code: int,
    first_word: str,
) -> None:
    _use(monkeypatch, ScriptedSource(4, end, skipped=1))
    assert main(["run", str(_pipeline(tmp_path)), "--events", str(tmp_path / "e.jsonl")]) == code
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"{first_word} 4 frames processed, 0 dropped, 1 skipped (undecodable)")
    assert lines[1:] == ([f"error: {end[1]}"] if code else [])
