"""Frame sinks: where `RenderWorker` writes rendered frames; `VideoOut` is the video file.

A video has one size (the first frame's); a frame of another size (an image folder of several
cameras) is fitted into it by `letterbox`: scaled to fit, aspect ratio kept, centred on black.
A video path is checked before a run starts (`check_video_out`), and the file is checked after
it is closed: OpenCV's writer reports no write error (a full disk gives a short, unplayable
file and no complaint), so `VideoOut.close` reopens the file and counts its frames.

Example:
    >>> with VideoOut("out.avi", 30.0, (320, 240)) as video:  # doctest: +SKIP
    ...     video.write(np.zeros((240, 320, 3), np.uint8))
    >>> letterbox(np.full((100, 50, 3), 255, np.uint8), (200, 100))[50, [0, 74, 75, 124, 125, 199]].tolist()
    [[0, 0, 0], [0, 0, 0], [255, 255, 255], [255, 255, 255], [0, 0, 0], [0, 0, 0]]
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import cv2
import numpy as np

from orchestrator.errors import PipelineError, UserError

#: Codec per file suffix (lower case).
FOURCC_BY_SUFFIX: Mapping[str, str] = MappingProxyType({".mp4": "mp4v", ".avi": "MJPG"})


def check_video_out(path: str | os.PathLike[str]) -> Path:
    """Check that an annotated video can be written at ``path`` before anything runs; returns it as a `Path`.

    Raises `UserError` (one line naming the path) for a suffix without a codec (`FOURCC_BY_SUFFIX`),
    a folder that does not exist or is not a folder, a folder where no file can be created (read-only,
    no permission: a file is created there and removed, which holds for root too), or a path that
    is a folder.

    Example:
        >>> check_video_out("/nonexistent-folder/out.mp4")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        orchestrator.errors.UserError: /nonexistent-folder/out.mp4: cannot write video: folder ... does not exist
        >>> check_video_out("out.mkv")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        orchestrator.errors.UserError: out.mkv: cannot write video with suffix '.mkv'; use one of .mp4, .avi
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FOURCC_BY_SUFFIX:
        supported = ", ".join(FOURCC_BY_SUFFIX)
        raise UserError(f"{path}: cannot write video with suffix {suffix or '(none)'!r}; use one of {supported}")
    folder = target.parent
    if not folder.exists():
        raise UserError(f"{path}: cannot write video: folder {folder} does not exist")
    if not folder.is_dir():
        raise UserError(f"{path}: cannot write video: {folder} is not a folder")
    if target.is_dir():
        raise UserError(f"{path}: cannot write video: it is a folder")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".video-out-", suffix=suffix)
    except OSError as exc:
        raise UserError(f"{path}: cannot write video in {folder}: {exc.strerror or exc}") from exc
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return target


def letterbox(bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``bgr (h, w, 3)`` fitted into ``size = (width, height)``: scaled to fit, aspect kept, centred on black.

    A frame of exactly ``size`` is returned as it is. The scale is the largest that fits both
    sides; the rest of the image is black bars (left and right, or top and bottom).
    """
    width, height = size
    h, w = bgr.shape[:2]
    if (w, h) == (width, height):
        return bgr
    scale = min(width / w, height / h)
    new_w, new_h = max(1, min(width, round(w * scale))), max(1, min(height, round(h * scale)))
    # INTER_AREA when shrinking (no aliasing), linear when enlarging.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(bgr, (new_w, new_h), interpolation=interpolation)
    out = np.zeros((height, width, 3), np.uint8)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    out[y0 : y0 + new_h, x0 : x0 + new_w] = resized
    return out


def count_video_frames(path: str | os.PathLike[str]) -> int:
    """Frames a video file holds by its container's count (0 when it cannot be opened or decoded)."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return 0
        ok, _ = capture.read()
        if not ok:
            return 0
        return max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        capture.release()


class FrameSink(Protocol):
    """Anything `RenderWorker` can write rendered frames to (`VideoOut`, or a test double)."""

    def write(self, bgr: np.ndarray) -> None: ...

    def close(self) -> None: ...


class VideoOut:
    """A video file written frame by frame, one output frame per source frame.

    The codec follows the suffix: ``.mp4`` → ``mp4v``, ``.avi`` → ``MJPG``. ``size`` is
    ``(width, height)`` (the first frame's, for a run); a frame of another size is fitted into it
    with `letterbox` (OpenCV would drop it silently). `close` checks the file: it raises
    `PipelineError` when the file does not hold every frame written (a full disk, a failing device).

    Example:
        >>> with VideoOut("out.avi", 30.0, (320, 240)) as video:  # doctest: +SKIP
        ...     video.write(np.zeros((240, 320, 3), np.uint8))
    """

    FOURCC_BY_SUFFIX: Mapping[str, str] = FOURCC_BY_SUFFIX

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        self.path = check_video_out(path)
        suffix = self.path.suffix.lower()
        if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not (math.isfinite(fps) and fps > 0):
            raise UserError(f"{path}: video fps must be a number > 0, got {fps!r}")
        width, height = (int(v) for v in size)
        if width <= 0 or height <= 0:
            raise UserError(f"{path}: video size must be positive (width, height), got {size!r}")
        self.fps = float(fps)
        self.size = (width, height)
        self.fourcc = self.FOURCC_BY_SUFFIX[suffix]
        #: Frames handed to the writer (`close` checks the file holds as many).
        self.frames_written = 0
        #: Frames of another size fitted into the video's size.
        self.frames_fitted = 0
        self._writer: cv2.VideoWriter | None = cv2.VideoWriter(
            str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, self.size
        )
        if not self._writer.isOpened():
            self._writer.release()
            self._writer = None
            raise UserError(f"{path}: cannot open for writing ({self.fourcc} video, {width}x{height} at {fps:g} fps)")

    def write(self, bgr: np.ndarray) -> None:
        """Append one BGR ``uint8 (h, w, 3)`` frame, fitted into the writer's size when it has another."""
        if self._writer is None:
            raise ValueError(f"{self.path}: write after close")
        if bgr.dtype != np.uint8 or bgr.ndim != 3 or bgr.shape[2] != 3 or 0 in bgr.shape:
            raise ValueError(f"{self.path}: frame must be uint8 (H, W, 3), got {bgr.dtype} {bgr.shape}")
        width, height = self.size
        if bgr.shape[:2] != (height, width):
            bgr = letterbox(bgr, self.size)
            self.frames_fitted += 1
        self._writer.write(bgr)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file and check it holds every frame written. Safe to call twice.

        Raises `PipelineError` (one line naming the path and both counts) when it does not.
        """
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        if self.frames_written == 0:
            return  # nothing was written: OpenCV leaves an empty or header-only file, nothing to check
        found = count_video_frames(self.path)
        if found != self.frames_written:
            raise PipelineError(
                f"{self.path}: the video file is incomplete: {found} of {self.frames_written} frames written "
                "can be read back (disk full, or the device failed)"
            )

    def __enter__(self) -> VideoOut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
