"""Opening an OpenCV ``VideoCapture`` quietly, with timeouts, and releasing it safely.

libav prints a line per damaged packet of a video ("marker does not match f_code", ...), and
OpenCV one per failed open; the sources report those facts themselves (one-line errors, skipped
frame counts), so both are silenced unless the user asks for them: set
``OPENCV_FFMPEG_LOGLEVEL`` (libav's levels, e.g. 24 for warnings) to see libav's lines.

Example:
    >>> from pathlib import Path
    >>> capture = open_capture(str(Path("no-such-file.mp4")))
    >>> capture.isOpened()
    False
"""

from __future__ import annotations

import os
import threading

import cv2

# Read by OpenCV when it first loads FFmpeg, so before any capture opens.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def open_capture(uri: str | int, timeout_s: float | None = None, decode_threads: int = 0) -> cv2.VideoCapture:
    """A capture of ``uri`` (check ``isOpened()``), with OpenCV's log quiet while it opens.

    ``decode_threads`` (files only): FFmpeg's decoding threads (``CAP_PROP_N_THREADS``); 0 leaves
    FFmpeg's choice (one per core).

    ``timeout_s`` bounds a stream's open and each read (FFmpeg's ``CAP_PROP_OPEN_TIMEOUT_MSEC``
    and ``CAP_PROP_READ_TIMEOUT_MSEC``; OpenCV's default is 30 s); for a camera the read timeout
    is set where the backend supports it. None leaves OpenCV's defaults (files).
    """
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        if timeout_s is None:
            if decode_threads > 0 and isinstance(uri, str) and cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
                capture = cv2.VideoCapture(uri, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, int(decode_threads)])
                if capture.isOpened():
                    return capture
                capture.release()  # a file FFmpeg cannot open: another backend may
            return cv2.VideoCapture(uri)
        timeout_ms = max(1, round(timeout_s * 1000))
        if isinstance(uri, int) or not cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
            # Camera backends refuse an open with parameters they do not know; set() just returns False.
            capture = cv2.VideoCapture(uri)
            capture.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms)
            return capture
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        return cv2.VideoCapture(uri, cv2.CAP_FFMPEG, params)
    finally:
        cv2.utils.logging.setLogLevel(previous)


class SharedCapture:
    """A capture that one thread reads while another may close it.

    ``read`` holds no lock while OpenCV decodes (a stalled stream can block there until its
    timeout), so `close` never waits for it; a capture closed during a read is released by the
    reader when that read returns. Releasing it under a running read could crash OpenCV.
    """

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self._capture = capture
        self._lock = threading.Lock()
        self._reading = False
        self._closed = False

    def get(self, prop: int) -> float:
        return float(self._capture.get(prop))

    def read(self) -> tuple[bool, object]:
        """``(ok, frame)`` as ``VideoCapture.read``; ``(False, None)`` once closed."""
        with self._lock:
            if self._closed:
                return False, None
            self._reading = True
        try:
            ok, frame = self._capture.read()
        finally:
            with self._lock:
                self._reading = False
                closed = self._closed
            if closed:
                self._capture.release()
        return (False, None) if closed else (bool(ok), frame)

    def close(self) -> None:
        """Release now, or when the read in progress returns. Thread-safe; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            reading = self._reading
        if not reading:
            self._capture.release()
