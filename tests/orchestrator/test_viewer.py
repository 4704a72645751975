"""``run --video-out`` / ``--display``: one annotated frame per source frame, drawn off the detection path;
the HUD's fps; the display settings checked before the run."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from helpers import make_video, write_fixture, write_pipeline

from orchestrator import viewer as viewer_module
from orchestrator.config import load_pipeline
from orchestrator.frames import Frame
from orchestrator.render import FrameView
from orchestrator.scene import Scene
from orchestrator.viewer import Viewer


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_video_out_has_one_frame_per_source_frame(tmp_path: Path, run_cli, suffix: str) -> None:
    make_video(tmp_path / "clip.avi", frames=23, size=(320, 240))
    hands = {i: [{"box": [40 + 2 * i, 60, 120 + 2 * i, 160]}] for i in range(0, 23, 3)}
    write_fixture(tmp_path / "hands.yaml", hands)
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        source: {uri: clip.avi}
        detectors:
          hands: {plugin: testing.scripted, params: {fixture: hands.yaml}, schedule: {every_n_frames: 3}}
        tracker: {type: sort, detector: hands}
        outputs: {records: [tracks]}
        """,
    )
    out = tmp_path / f"annotated{suffix}"
    result = run_cli("run", pipeline, "--events", "-", "--video-out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert all(json.loads(line) for line in result.stdout.splitlines())  # nothing but records on stdout
    assert "drawing: 23 frames, 0 dropped" in result.stderr
    capture = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == 23
    assert frames[0].shape == (240, 320, 3)
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30, abs=0.5)
    # Frame 10 has no detection (the detector runs on 9 and 12): the predicted hand box is drawn,
    # so the annotated frame differs from the source frame around the hand.
    source = cv2.VideoCapture(str(tmp_path / "clip.avi"))
    for _ in range(11):
        _, original = source.read()
    diff = np.abs(frames[10].astype(int) - original.astype(int)).sum(axis=2)
    assert diff[60:160, 55:65].max() > 100, "the tracked box's left edge (x=60) must be drawn on frame 10"


def test_video_out_to_a_missing_folder_is_a_user_error(tmp_path: Path, run_cli) -> None:
    make_video(tmp_path / "clip.avi", frames=3)
    pipeline = write_pipeline(tmp_path / "p.yaml", "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n")
    result = run_cli("run", pipeline, "--source", "clip.avi", "--video-out", "nowhere/out.mp4", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr


def test_display_size_setting_is_checked_before_the_run(tmp_path: Path, run_cli) -> None:
    make_video(tmp_path / "clip.avi", frames=3)
    pipeline = write_pipeline(tmp_path / "p.yaml", "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n")
    env = {"ORCHESTRATOR_DISPLAY_SIZE": "huge"}
    result = run_cli("run", pipeline, "--source", "clip.avi", "--display", "--events", "e.jsonl", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "ORCHESTRATOR_DISPLAY_SIZE: expected WIDTHxHEIGHT in pixels (like 1280x720), got 'huge'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "e.jsonl").exists()


class _Recorder:
    """Stands in for the render thread: keeps what the viewer submits."""

    def __init__(self, sinks: object, display: object = None, **kwargs: object) -> None:
        self.views: list[FrameView] = []
        self.quit_requested = False

    def submit(self, view: FrameView) -> None:
        self.views.append(view)


def test_hud_fps_is_measuring_until_half_a_second_of_frames(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The viewer's fps comes from wall time: a clock stepped by hand makes it exact. 64 fps (steps
    # exact in binary) for 1 s: no rate before 0.5 s (not the bogus 1/(t1 - t0) of the first two
    # frames), then 64 fps.
    now = [100.0]
    monkeypatch.setattr(viewer_module.time, "perf_counter", lambda: now[0])
    monkeypatch.setattr(viewer_module, "RenderWorker", _Recorder)
    monkeypatch.setattr(viewer_module, "VideoOut", lambda *a: None)
    config = load_pipeline(write_pipeline(tmp_path / "p.yaml", "version: 1\ndetectors:\n  a: {plugin: testing.noop}\n"))
    source = SimpleNamespace(fps=64.0, live=False, frame_count=64)
    runtime = SimpleNamespace(config=config, source=source, mode="deterministic", stopping=False, max_frames=None)
    viewer = Viewer(runtime, video_out=str(tmp_path / "out.avi"), display=False, progress=False)
    rgb = np.zeros((24, 32, 3), np.uint8)
    for index in range(64):
        viewer(Frame(index, index / 64, rgb), Scene(index, index / 64, (32, 24)))
        now[0] += 1 / 64
    rates = [view.fps for view in viewer._worker.views]
    assert rates[:32] == [None] * 32
    assert all(rate == pytest.approx(64.0) for rate in rates[32:])
