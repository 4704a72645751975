"""A camera or a stream URL: frames as they come, reconnection with back-off, and a stated end.

Each open and each read is bounded by ``timeout_s`` (`orchestrator.sources.capture`). A read
that fails (the server closed the connection, the camera was unplugged) or delivers nothing for
``timeout_s`` (a stall) counts in ``stalls``; the source then reopens the URL or camera, waiting
0.5 s, 1 s, 2 s ... (at most ``reconnect.max_delay_s``) before each try, for up to
``reconnect.attempts`` tries per outage (the count starts afresh once a frame arrives). A
successful reopening counts in ``reconnects``; when the tries are spent the source ends with
``source_lost``. A live source never ends ``completed``: from the client's side a stream that
ended cannot be told from one whose server died.

`Source.interrupt` ends a back-off wait at once. An open or read blocked inside OpenCV cannot be
woken; it returns within ``timeout_s``, the reading thread may be abandoned meanwhile.

Example:
    >>> backoff_delays(ReconnectSpec(attempts=6, max_delay_s=3))
    [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from orchestrator.config.spec import ReconnectSpec, SourceSpec
from orchestrator.errors import UserError
from orchestrator.sources.base import Source
from orchestrator.sources.capture import SharedCapture, open_capture
from orchestrator.sources.video import stated_fps

#: The first wait before reopening; each next one doubles, up to ``max_delay_s``.
FIRST_DELAY_S = 0.5


def backoff_delays(reconnect: ReconnectSpec) -> list[float]:
    """The wait in seconds before each reopening of one outage."""
    return [float(min(reconnect.max_delay_s, FIRST_DELAY_S * 2**attempt)) for attempt in range(reconnect.attempts)]


def without_credentials(url: str) -> str:
    """``url`` without its user name and password (``rtsp://user:pw@cam/s`` → ``rtsp://cam/s``).

    Example:
        >>> without_credentials("rtsp://admin:secret@10.0.0.5:554/live"), without_credentials("http://cam/x.mjpg")
        ('rtsp://10.0.0.5:554/live', 'http://cam/x.mjpg')
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class LiveCaptureSource(Source):
    """A camera (integer index) or a stream URL; time is seconds since the first frame.

    Raises `UserError` when the first open fails (within ``timeout_s`` for a stream).
    """

    live = True

    def __init__(
        self,
        uri: str | int,
        fps: float | None = None,
        timeout_s: float = SourceSpec.timeout_s,
        reconnect: ReconnectSpec = SourceSpec.reconnect,
    ) -> None:
        self.kind = "camera" if isinstance(uri, int) else "stream"
        super().__init__(uri, fps)
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0 seconds, got {timeout_s!r}")
        self.timeout_s = float(timeout_s)
        self.reconnect = reconnect
        self._delays = backoff_delays(reconnect)
        capture = open_capture(uri, self.timeout_s)
        if not capture.isOpened():
            capture.release()
            raise UserError(self._open_error())
        self._capture = SharedCapture(capture)
        self.fps_stated = stated_fps(self._capture)
        if fps is None:
            self.fps = self.fps_stated or self.fps
        self.width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._t0: float | None = None
        self._tries_this_outage = 0
        # Guards swapping in a reopened capture against a concurrent close(); never held across I/O.
        self._swap = threading.Lock()
        self._closed = False

    @property
    def name(self) -> str:
        """``camera N``, or the URL without a user name and password."""
        if isinstance(self.uri, int):
            return f"camera {self.uri}"
        return without_credentials(self.uri)

    def _label(self) -> str:
        return f"camera {self.uri}" if isinstance(self.uri, int) else str(self.uri)

    def _open_error(self) -> str:
        if isinstance(self.uri, int):
            return f"camera {self.uri}: cannot open (no such device, or it is in use)"
        return (
            f"{self.uri}: cannot open stream within {self.timeout_s:g} s "
            "(unreachable, not answering, or a protocol OpenCV does not support)"
        )

    def _next(self) -> tuple[np.ndarray, float] | None:
        while True:
            ok, frame = self._capture.read()
            if self.interrupted or self._closed:
                return self._end("interrupted")
            if ok and frame is not None:
                self._tries_this_outage = 0
                now = time.monotonic()
                if self._t0 is None:
                    self._t0 = now
                return frame, now - self._t0
            self.stalls += 1
            if not self._reopen():
                if self.interrupted or self._closed:
                    return self._end("interrupted")
                return self._end("source_lost", self._lost_message())

    def _lost_message(self) -> str:
        if not self.reconnect.attempts:
            return f"{self._label()}: source lost: the stream broke or stalled (reconnect.attempts is 0)"
        return (
            f"{self._label()}: source lost: no frame after {self.reconnect.attempts} reconnect attempt(s)"
            f" (timeout {self.timeout_s:g} s)"
        )

    def _reopen(self) -> bool:
        """Reopen after a break, waiting before each try; False when the tries are spent or on a stop."""
        self._capture.close()
        while self._tries_this_outage < len(self._delays):
            delay = self._delays[self._tries_this_outage]
            self._tries_this_outage += 1
            if self._interrupted.wait(delay):
                return False
            capture = open_capture(self.uri, self.timeout_s)
            if capture.isOpened():
                with self._swap:
                    if not (self._closed or self.interrupted):
                        self._capture = SharedCapture(capture)
                        self.reconnects += 1
                        return True
                capture.release()
                return False
            capture.release()
        return False

    def close(self) -> None:
        with self._swap:
            self._closed = True
            capture = self._capture
        capture.close()
