"""``run --video-out`` end to end: frames of several sizes, a path refused before the run, a device that fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.cli import run_cli, write_pipeline
from helpers.paths import REPO_ROOT, shared_path

NOOP = "version: 1\ndetectors:\n  n: {plugin: testing.noop}\noutputs: {records: [detections]}\n"


def _frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return frames
            frames.append(image)
    finally:
        capture.release()


def _mixed_folder(folder: Path) -> Path:
    folder.mkdir()
    for name, (width, height) in {"1.png": (320, 240), "2.png": (160, 120), "3.png": (120, 240)}.items():
        cv2.imwrite(str(folder / name), np.full((height, width, 3), 200, np.uint8))
    return folder


def test_frames_of_several_sizes_are_fitted_into_the_first_ones(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path / "p.yaml", NOOP)
    video, events = tmp_path / "out.avi", tmp_path / "e.jsonl"
    folder = _mixed_folder(tmp_path / "mixed")
    result = run_cli("run", pipeline, "--source", folder, "--events", events, "--video-out", video, "-q")
    assert result.returncode == 0, result.stderr
    assert [image.shape for image in _frames(video)] == [(240, 320, 3)] * 3
    assert json.loads(events.read_text().splitlines()[-1])["type"] == "summary"


def test_a_video_path_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path / "p.yaml", NOOP)
    folder = _mixed_folder(tmp_path / "mixed")
    events = tmp_path / "e.jsonl"
    events.write_text("previous run\n")
    for target, message in (("/dev/full/x.mp4", "/dev/full"), (str(tmp_path / "v.mkv"), ".mkv")):
        result = run_cli("run", pipeline, "--source", folder, "--events", events, "--video-out", target, "-q")
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0] and lines[0].startswith("error: ")
        assert events.read_text() == "previous run\n"  # nothing ran, nothing written


def test_a_video_the_device_did_not_take_is_an_error_exit_1(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    pipeline = write_pipeline(tmp_path / "p.yaml", NOOP)
    folder = _mixed_folder(tmp_path / "mixed")
    video = tmp_path / "out.avi"
    video.symlink_to("/dev/full")  # every write fails with ENOSPC, as on a full disk
    result = run_cli("run", pipeline, "--source", folder, "--events", tmp_path / "e.jsonl", "--video-out", video, "-q")
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {video}: the video file is incomplete: 0 of 3 frames written can be read back "
                      "(disk full, or the device failed)"]  # fmt: skip


def test_case_mixed_size_folder(tmp_path: Path, real_models: Path) -> None:
    """The case as its README runs it, with the real MediaPipe model (installed by the fixture)."""
    case = shared_path("cases/mixed-size-folder")
    events, video = tmp_path / "m.jsonl", tmp_path / "m.mp4"
    result = run_cli(
        "run", "pipelines/hands_only.yaml", "--source", case / "mixed", "--events", events, "--video-out", video, "-q"
    )
    assert result.returncode == 0, result.stderr
    assert [image.shape for image in _frames(video)] == [(720, 1280, 3)] * 5
    check = subprocess.run(
        [sys.executable, str(case.parent / "_lib" / "check_events.py"), str(events),
         "--sizes", str(case / "sizes.json"), "--frames", "5"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    verdict = json.loads(check.stdout)
    assert verdict["ok"], verdict["problems"]
