"""`VideoOut`: every frame written, errors naming the path."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.render_views import frame

from orchestrator.errors import PipelineError, UserError
from orchestrator.render import (
    VideoOut,
)
from orchestrator.render.video import check_video_out, letterbox


# --------------------------------------------------------------------------- VideoOut
@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_video_out_writes_every_frame(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    with VideoOut(path, 25.0, (320, 240)) as video:
        for i in range(7):
            video.write(frame(rgb=(i * 30, 100, 200)))
    assert video.frames_written == 7
    capture = cv2.VideoCapture(str(path))
    try:
        assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (320, 240)
        count = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            assert image.shape == (240, 320, 3)
            count += 1
    finally:
        capture.release()
    assert count == 7


def test_video_out_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "out.mp4"
    with pytest.raises(UserError, match="nowhere"):
        VideoOut(missing, 30.0, (320, 240))
    with pytest.raises(UserError, match=r"out\.mkv"):
        VideoOut(tmp_path / "out.mkv", 30.0, (320, 240))
    (tmp_path / "taken.avi").mkdir()  # a folder where the file should go: the writer cannot open it
    with pytest.raises(UserError, match=r"taken\.avi"):
        VideoOut(tmp_path / "taken.avi", 30.0, (320, 240))
    with pytest.raises(UserError, match="fps"):
        VideoOut(tmp_path / "out.avi", 0, (320, 240))


def test_video_out_fits_frames_of_other_sizes_into_its_own(tmp_path: Path) -> None:
    """An image folder of several sizes: every frame in the first one's size, aspect kept, centred on black."""
    path = tmp_path / "out.avi"
    white = (255, 255, 255)
    sizes = [(320, 240), (160, 120), (480, 360), (120, 240), (640, 240)]
    with VideoOut(path, 25.0, (320, 240)) as video:
        for width, height in sizes:
            video.write(frame(width, height, rgb=white))
    assert (video.frames_written, video.frames_fitted) == (5, 4)
    images = _read_all(path)
    assert [image.shape for image in images] == [(240, 320, 3)] * 5
    # Same aspect (4:3): the whole frame is the picture.
    for image in images[:3]:
        assert image.min() > 200
    # Portrait 120x240 -> 120x240 centred: bars of 100 px left and right.
    portrait = images[3].mean(axis=(0, 2))
    assert portrait[:95].max() < 30 and portrait[225:].max() < 30 and portrait[105:215].min() > 200
    # Wide 640x240 -> 320x120 centred: bars of 60 px above and below.
    wide = images[4].mean(axis=(1, 2))
    assert wide[:55].max() < 30 and wide[185:].max() < 30 and wide[65:175].min() > 200


@pytest.mark.parametrize(
    ("size", "into", "placed"),
    [
        ((640, 360), (1280, 720), (0, 0, 1280, 720)),  # half size: scaled up 2x
        ((1920, 1080), (1280, 720), (0, 0, 1280, 720)),  # bigger: scaled down
        ((405, 720), (1280, 720), (437, 0, 842, 720)),  # portrait crop: bars left and right
        ((100, 10), (50, 50), (0, 22, 50, 27)),  # very wide: bars above and below
    ],
)
def test_letterbox_keeps_the_aspect_and_centres(size: tuple, into: tuple, placed: tuple) -> None:
    out = letterbox(np.full((size[1], size[0], 3), 255, np.uint8), into)
    assert out.shape == (into[1], into[0], 3)
    x0, y0, x1, y1 = placed
    assert out[y0:y1, x0:x1].min() == 255
    mask = np.ones(out.shape[:2], bool)
    mask[y0:y1, x0:x1] = False
    assert out[mask].max(initial=0) == 0


def test_video_out_refuses_a_frame_that_is_not_an_image_and_writes_after_close(tmp_path: Path) -> None:
    video = VideoOut(tmp_path / "out.avi", 30.0, (320, 240))
    with pytest.raises(ValueError, match=r"uint8 \(H, W, 3\)"):
        video.write(np.zeros((240, 320), np.uint8))
    video.close()
    video.close()
    with pytest.raises(ValueError, match="after close"):
        video.write(frame())


def test_a_video_the_device_did_not_take_is_reported_on_close(tmp_path: Path) -> None:
    """OpenCV's writer says nothing when writes fail (disk full): the file is read back and its frames counted."""
    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("needs /dev/full")
    path = tmp_path / "out.avi"
    path.symlink_to(full)  # every write fails with ENOSPC, as on a full disk
    video = VideoOut(path, 25.0, (320, 240))
    for _ in range(5):
        video.write(frame())
    with pytest.raises(PipelineError, match=r"out\.avi: the video file is incomplete: 0 of 5 frames"):
        video.close()
    video.close()  # once is enough
    # The mp4 muxer needs a file it can seek in: it fails to open, and says so.
    (tmp_path / "out.mp4").symlink_to(full)
    with pytest.raises(UserError, match=r"out\.mp4: cannot open for writing"):
        VideoOut(tmp_path / "out.mp4", 25.0, (320, 240))


def test_check_video_out_refuses_paths_before_a_run(tmp_path: Path) -> None:
    assert check_video_out(tmp_path / "ok.mp4") == tmp_path / "ok.mp4"
    assert list(tmp_path.iterdir()) == []  # the probe file is gone
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "taken.avi").mkdir()
    cases = {
        tmp_path / "nowhere" / "out.mp4": "folder .*nowhere does not exist",
        tmp_path / "file.txt" / "out.mp4": r"file\.txt is not a folder",
        tmp_path / "taken.avi": "it is a folder",
        tmp_path / "out.mkv": "suffix '.mkv'",
        tmp_path / "out": "suffix '\\(none\\)'",
        Path("/dev/full/x.mp4"): "/dev/full is not a folder",
    }
    for path, message in cases.items():
        with pytest.raises(UserError, match=message):
            check_video_out(path)
    if Path("/sys/kernel").is_dir():
        with pytest.raises(UserError, match="cannot write video in /sys"):
            check_video_out("/sys/out.mp4")  # a folder where no file can be made, even by root


def _read_all(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    images = []
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return images
            images.append(image)
    finally:
        capture.release()
