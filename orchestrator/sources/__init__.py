"""Frame sources: a camera index, a video file, a folder of images or a stream URL.

`open_source` picks the kind from the value; each source yields BGR frames as OpenCV decodes
them, with a source timestamp. The reader thread in the runtime converts them to RGB once.
Problems a user can fix (missing file, no permission, not a video, empty folder) are raised
as `UserError` with the path and what was expected.

Example:
    >>> src = open_source("../shared/data/egodex/add_remove_lid_0.mp4")   # doctest: +SKIP
    >>> src.kind, src.live                                                 # doctest: +SKIP
    ('video', False)
"""

from __future__ import annotations

import abc
import os
import time
from pathlib import Path

import cv2
import numpy as np

from orchestrator.config.env import is_url
from orchestrator.errors import PipelineError, UserError
from orchestrator.imagefiles import IMAGE_SUFFIXES, image_files

DEFAULT_FPS = 30.0


class Source(abc.ABC):
    """A sequence of frames. ``read`` returns ``(bgr, time_s)`` or None at the end."""

    kind: str = ""
    #: Live sources (cameras, streams) deliver frames in real time whether or not we keep up.
    live: bool = False

    def __init__(self, uri: str | int, fps: float | None) -> None:
        self.uri = uri
        self.fps = fps or DEFAULT_FPS
        self.frame_count: int | None = None
        self.width = 0
        self.height = 0

    @abc.abstractmethod
    def read(self) -> tuple[np.ndarray, float] | None:
        """The next frame in BGR order and its source time in seconds, or None at the end."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release the device or file."""

    def describe(self) -> str:
        return str(self.uri)


class _CaptureSource(Source):
    """Shared by video files, cameras and streams: an OpenCV VideoCapture."""

    def __init__(self, uri: str | int, fps: float | None) -> None:
        super().__init__(uri, fps)
        # OpenCV logs its own "[ERROR] ... cannot open" lines; ours below says it in one line.
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        try:
            self._capture = cv2.VideoCapture(uri)
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if not self._capture.isOpened():
            self._capture.release()
            raise UserError(self._open_error())
        stated_fps = self._capture.get(cv2.CAP_PROP_FPS)
        if fps is None and stated_fps and np.isfinite(stated_fps) and 0 < stated_fps <= 1000:
            self.fps = float(stated_fps)
        self.width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._index = 0

    @abc.abstractmethod
    def _open_error(self) -> str: ...

    def close(self) -> None:
        self._capture.release()


class VideoFileSource(_CaptureSource):
    """A video file; time is ``index / fps``, so it does not depend on decoding speed."""

    kind = "video"

    def __init__(self, path: str, fps: float | None = None) -> None:
        if not os.path.exists(path):
            raise UserError(f"{path}: no such video file")
        if not os.access(path, os.R_OK):
            raise UserError(f"{path}: cannot read video file: permission denied")
        if os.path.getsize(path) == 0:
            raise UserError(f"{path}: video file is empty")
        super().__init__(path, fps)
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise UserError(f"{path}: no frame could be decoded (corrupt or unsupported video)")
        self._pending: np.ndarray | None = first

    def _open_error(self) -> str:
        return f"{self.uri}: not a video OpenCV can open (corrupt file or unsupported format)"

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
        else:
            ok, frame = self._capture.read()
            if not ok or frame is None:
                return None
        time_s = self._index / self.fps
        self._index += 1
        return frame, time_s


class LiveCaptureSource(_CaptureSource):
    """A camera (integer index) or a stream URL; time is measured from the first frame."""

    live = True

    def __init__(self, uri: str | int, fps: float | None = None) -> None:
        self.kind = "camera" if isinstance(uri, int) else "stream"
        super().__init__(uri, fps)
        self._t0: float | None = None

    def _open_error(self) -> str:
        if isinstance(self.uri, int):
            return f"camera {self.uri}: cannot open (no such device, or it is in use)"
        return f"{self.uri}: cannot open stream (unreachable, or a protocol OpenCV does not support)"

    def read(self) -> tuple[np.ndarray, float] | None:
        ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        return frame, now - self._t0


class ImageFolderSource(Source):
    """A folder of images in natural name order (``2.jpg`` before ``10.jpg``); time is ``index / fps``.

    Hidden files (``.DS_Store``, ``._frame.jpg``), folders and other files are not frames
    (`orchestrator.imagefiles`).
    """

    kind = "images"

    def __init__(self, folder: str, fps: float | None = None) -> None:
        super().__init__(folder, fps)
        root = Path(folder)
        if not os.access(root, os.R_OK | os.X_OK):
            raise UserError(f"{folder}: cannot read folder: permission denied")
        self.paths = image_files(root)
        if not self.paths:
            raise UserError(f"{folder}: folder contains no images (expected {', '.join(IMAGE_SUFFIXES)})")
        self.frame_count = len(self.paths)
        self._index = 0

    def read(self) -> tuple[np.ndarray, float] | None:
        if self._index >= len(self.paths):
            return None
        path = self.paths[self._index]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise PipelineError(f"{path}: cannot decode image (corrupt, unreadable or not an image)")
        if not self.width:
            self.height, self.width = image.shape[:2]
        time_s = self._index / self.fps
        self._index += 1
        return image, time_s


def open_source(uri: str | int, fps: float | None = None) -> Source:
    """Open ``uri``: an int (or digits) is a camera, ``scheme://`` a stream, a folder images, else a video.

    Raises `UserError` with the path and the reason when it cannot be opened.
    """
    if isinstance(uri, int) or (isinstance(uri, str) and uri.strip().isdigit()):
        return LiveCaptureSource(int(uri), fps)
    if is_url(uri):
        return LiveCaptureSource(uri, fps)
    if os.path.isdir(uri):
        return ImageFolderSource(uri, fps)
    return VideoFileSource(uri, fps)
