"""`VideoOut`: every frame written, errors naming the path."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from helpers.render_views import frame

from orchestrator.errors import UserError
from orchestrator.render import (
    VideoOut,
)


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


def test_video_out_refuses_a_frame_of_another_size(tmp_path: Path) -> None:
    video = VideoOut(tmp_path / "out.avi", 30.0, (320, 240))
    with pytest.raises(ValueError, match="240, 320, 3"):
        video.write(frame(640, 480))
    video.close()
    video.close()
    with pytest.raises(ValueError, match="after close"):
        video.write(frame())
