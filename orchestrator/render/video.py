"""Frame sinks: where `RenderWorker` writes rendered frames; `VideoOut` is the video file.

Example:
    >>> with VideoOut("out.avi", 30.0, (320, 240)) as video:  # doctest: +SKIP
    ...     video.write(np.zeros((240, 320, 3), np.uint8))
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import cv2
import numpy as np

from orchestrator.errors import UserError


class FrameSink(Protocol):
    """Anything `RenderWorker` can write rendered frames to (`VideoOut`, or a test double)."""

    def write(self, bgr: np.ndarray) -> None: ...

    def close(self) -> None: ...


class VideoOut:
    """A video file written frame by frame, one output frame per source frame.

    The codec follows the suffix: ``.mp4`` → ``mp4v``, ``.avi`` → ``MJPG``. ``size`` is
    ``(width, height)``; every frame written must have exactly that size (OpenCV would drop a
    frame of another size silently, so `write` refuses it).

    Example:
        >>> with VideoOut("out.avi", 30.0, (320, 240)) as video:  # doctest: +SKIP
        ...     video.write(np.zeros((240, 320, 3), np.uint8))
    """

    FOURCC_BY_SUFFIX: Mapping[str, str] = MappingProxyType({".mp4": "mp4v", ".avi": "MJPG"})

    def __init__(self, path: str | os.PathLike[str], fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in self.FOURCC_BY_SUFFIX:
            supported = ", ".join(self.FOURCC_BY_SUFFIX)
            raise UserError(f"{path}: cannot write video with suffix {suffix or '(none)'!r}; use one of {supported}")
        if not self.path.parent.is_dir():
            raise UserError(f"{path}: cannot write video: folder {self.path.parent} does not exist")
        if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not (math.isfinite(fps) and fps > 0):
            raise UserError(f"{path}: video fps must be a number > 0, got {fps!r}")
        width, height = (int(v) for v in size)
        if width <= 0 or height <= 0:
            raise UserError(f"{path}: video size must be positive (width, height), got {size!r}")
        self.fps = float(fps)
        self.size = (width, height)
        self.fourcc = self.FOURCC_BY_SUFFIX[suffix]
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = cv2.VideoWriter(
            str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, self.size
        )
        if not self._writer.isOpened():
            self._writer.release()
            self._writer = None
            raise UserError(f"{path}: cannot open for writing ({self.fourcc} video, {width}x{height} at {fps:g} fps)")

    def write(self, bgr: np.ndarray) -> None:
        """Append one BGR ``uint8 (H, W, 3)`` frame of the writer's size."""
        if self._writer is None:
            raise ValueError(f"{self.path}: write after close")
        width, height = self.size
        if bgr.dtype != np.uint8 or bgr.shape != (height, width, 3):
            raise ValueError(f"{self.path}: frame must be uint8 ({height}, {width}, 3), got {bgr.dtype} {bgr.shape}")
        self._writer.write(bgr)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file. Safe to call twice."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> VideoOut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
