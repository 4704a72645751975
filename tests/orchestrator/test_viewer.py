"""``run --video-out``: one annotated frame per source frame, drawn off the detection path."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import make_video, write_fixture, write_pipeline


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
