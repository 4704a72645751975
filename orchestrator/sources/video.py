"""A video file: every frame that decodes, at its presentation time, and an honest end.

Time is each frame's presentation timestamp (`orchestrator.sources.timestamps`), so variable
frame rates and wrong header rates give the frames' own times.

A read that fails is not taken for the end at once: in a damaged file the frames after the
damage often decode (``zeroed_mid.mp4``: frames 17-20 fail, 21-29 decode). After a failure the
source keeps reading, for as many failed reads as the container says frames remain (at least
8, at most 1000: each failed read consumes a damaged packet, and at the real end a read fails in
microseconds). Reads that failed before a frame decoded again are the skipped frames. The
source then ends ``truncated`` when frames were skipped or fewer frames decoded than the
container states (`orchestrator.sources.container`; ``cut.avi``: 19 of 30), else ``completed``.
With ``on_bad_frame="stop"`` the first damaged span ends the source with ``error`` instead.

Example:
    >>> src = VideoFileSource("../shared/cases/truncated-video/zeroed_mid.mp4")   # doctest: +SKIP
    >>> frames = list(iter(src.read, None))                                       # doctest: +SKIP
    >>> len(frames), src.end_status, src.frames_skipped, src.frames_expected      # doctest: +SKIP
    (26, 'truncated', 4, 30)
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from orchestrator.config.spec import SourceSpec
from orchestrator.errors import UserError
from orchestrator.sources.base import Source
from orchestrator.sources.capture import SharedCapture, open_capture
from orchestrator.sources.container import states_frame_count
from orchestrator.sources.timestamps import FrameClock

#: Bounds of the failed reads tried after a failure before the file counts as ended.
MIN_FAILED_READS = 8
MAX_FAILED_READS = 1000


def stated_fps(capture: SharedCapture | cv2.VideoCapture) -> float | None:
    """The rate the container states, if plausible (OpenCV gives 0, NaN or 90000 for some files)."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    return float(fps) if fps and np.isfinite(fps) and 0 < fps <= 1000 else None


class VideoFileSource(Source):
    """A video file; ``on_bad_frame`` is ``skip`` (default) or ``stop``; ``decode_threads``: FFmpeg's
    decoding threads (`SourceSpec`'s default, 1; 0: FFmpeg's choice).

    Raises `UserError` naming the path when the file is missing, unreadable, empty, not a video
    OpenCV can open (``no_moov.mp4``) or has no frame that decodes.
    """

    kind = "video"

    def __init__(
        self,
        path: str,
        fps: float | None = None,
        on_bad_frame: str = SourceSpec.on_bad_frame,
        decode_threads: int = SourceSpec.decode_threads,
    ) -> None:
        if not os.path.exists(path):
            raise UserError(f"{path}: no such video file")
        if not os.access(path, os.R_OK):
            raise UserError(f"{path}: cannot read video file: permission denied")
        if os.path.getsize(path) == 0:
            raise UserError(f"{path}: video file is empty")
        super().__init__(path, fps)
        self.on_bad_frame = on_bad_frame
        capture = open_capture(path, decode_threads=decode_threads)
        if not capture.isOpened():
            capture.release()
            raise UserError(f"{path}: not a video OpenCV can open (corrupt file or unsupported format)")
        self._capture = SharedCapture(capture)
        self.fps_stated = stated_fps(self._capture)
        if fps is None:
            self.fps = self.fps_stated or self.fps
        self.width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        self.frames_expected = self.frame_count if states_frame_count(path) else None
        self._clock = FrameClock(self.fps)
        self._decoded = 0
        self._closed = False
        # The first frame is read now, so a file with no frame that decodes is a user error at open.
        self._pending = self._decode()
        if self._pending is None:
            self._capture.close()
            raise UserError(self.end_error or f"{path}: no frame could be decoded (corrupt or unsupported video)")

    def _failed_reads_allowed(self) -> int:
        remaining = (self.frame_count or 0) - self._decoded
        return min(MAX_FAILED_READS, max(MIN_FAILED_READS, remaining))

    def _decode(self) -> tuple[np.ndarray, float] | None:
        """The next frame that decodes, skipping a damaged span; None at the end (status set)."""
        failed = 0
        while not (self.interrupted or self._closed):
            ok, frame = self._capture.read()
            if ok and frame is not None:
                if failed:
                    if self.on_bad_frame == "stop":
                        return self._end(
                            "error",
                            f"{self.uri}: frame {self._decoded} cannot be decoded "
                            f"(damaged video, {failed} frame(s) lost; on_bad_frame: stop)",
                        )
                    self._skip(count=failed)
                self._decoded += 1
                return frame, self._clock.time_s(self._capture.get(cv2.CAP_PROP_POS_MSEC))
            failed += 1
            if failed > self._failed_reads_allowed():
                break
        if self.interrupted or self._closed:
            return self._end("interrupted")
        short = self.frames_expected is not None and self._decoded < self.frames_expected
        return self._end("truncated" if short or self.frames_skipped else "completed")

    def _next(self) -> tuple[np.ndarray, float] | None:
        if self._closed:
            return self._end("interrupted")
        if self._pending is not None:
            item, self._pending = self._pending, None
            return item
        return self._decode()

    def close(self) -> None:
        """Release the file (thread-safe); a later ``read()`` returns None (``interrupted``)."""
        self._closed = True
        self._capture.close()
