"""The `Source` interface: frames with their source time, and how the source ended.

A source is read by one thread (the runtime's reader); `Source.interrupt` may be called from any
other thread. Its end facts are plain attributes, set by the reading thread before ``read()``
returns None, so the runtime reads them once the reader has finished.

Example:
    >>> class Two(Source):
    ...     kind = "test"
    ...     def _next(self):
    ...         self._i = getattr(self, "_i", 0) + 1
    ...         return (np.zeros((2, 2, 3), np.uint8), self._i / self.fps) if self._i <= 2 else self._end("completed")
    >>> source = Two("two", fps=10)
    >>> [item[1] for item in iter(source.read, None)], source.end_status, source.end_facts()
    ([0.1, 0.2], 'completed', {'end_status': 'completed', 'frames_delivered': 2})
"""

from __future__ import annotations

import abc
import os
import threading
from typing import Any

import numpy as np

DEFAULT_FPS = 30.0
#: How a source ended (``Source.end_status``); see `Source`.
END_STATUSES = ("completed", "truncated", "source_lost", "error", "interrupted")
#: Names of skipped folder images kept for the summary; the count goes on past it.
MAX_SKIPPED_NAMES = 20


class Source(abc.ABC):
    """A sequence of frames: ``read()`` returns ``(bgr, time_s)`` or None at the end.

    ``bgr`` is an ``(H, W, 3)`` uint8 image in OpenCV's BGR order; ``time_s`` the frame's time in
    the source in seconds (a video's presentation timestamp, ``index / fps`` in an image folder,
    seconds since the first frame for cameras and streams).

    Once ``read()`` has returned None, the end facts say why (until then ``end_status`` is None):

    * ``end_status``: ``"completed"`` (the whole source was read), ``"truncated"`` (a file ended
      before the frame count its container states, ``frames_expected``, or had undecodable frames,
      ``frames_skipped > 0``; a folder with skipped images too), ``"source_lost"`` (a camera or
      stream gave up after its reconnect attempts), ``"error"`` (``on_bad_frame: stop`` met an
      undecodable frame) or ``"interrupted"`` (`interrupt` or `close` came first).
    * ``end_error``: the one-line message for ``error`` (naming the file or image) and
      ``source_lost`` (the URL or camera and the attempts), else None.
    * ``frames_delivered``: frames ``read()`` returned; ``frames_expected``: the frame count a
      video's container states exactly (MP4/MOV, AVI), else None.
    * ``frames_skipped``: undecodable frames skipped (damaged video spans, folder images);
      ``skipped_names``: the first `MAX_SKIPPED_NAMES` skipped folder images' file names.
    * ``stalls``: breaks of a live stream (a read that failed, or delivered nothing for
      ``timeout_s``); ``reconnects``: successful reopenings after one.

    What a stream's header says of it (`orchestrator.events.StreamStartRecord`): `name` (the
    file's or folder's name, a stream's URL without credentials, ``camera N``, ``frames``: never
    a path that differs between machines), ``fps`` (the rate the run uses: the pipeline's
    ``source.fps``, else the stated one, else 30), ``fps_stated`` (the rate a video's container or
    a camera states, else None), `known_frame_count`. Once read: `fps_measured`, from the
    delivered frames' times. `file_name` names an image folder's frame by its index.

    `end_facts` gathers them for a summary. `interrupt` (thread-safe) makes any reconnect wait
    return at once and every later ``read()`` return None; a read blocked inside OpenCV still
    runs to its own timeout, so the caller may abandon the reading thread: nothing a source
    shares with `interrupt` or `close` is locked across a read.
    """

    kind: str = ""
    #: Live sources (cameras, streams) deliver frames in real time whether or not we keep up.
    live: bool = False

    def __init__(self, uri: str | int, fps: float | None) -> None:
        self.uri = uri
        self.fps = fps or DEFAULT_FPS
        #: Frames the source says it has (possibly an estimate, for progress), or None.
        self.frame_count: int | None = None
        self.width = 0
        self.height = 0
        self.end_status: str | None = None
        self.end_error: str | None = None
        self.frames_delivered = 0
        self.frames_expected: int | None = None
        self.frames_skipped = 0
        self.skipped_names: list[str] = []
        self.stalls = 0
        self.reconnects = 0
        #: The rate the container (or camera) states, when it states a plausible one.
        self.fps_stated: float | None = None
        self._first_time_s: float | None = None
        self._last_time_s: float | None = None
        self._interrupted = threading.Event()

    def read(self) -> tuple[np.ndarray, float] | None:
        """The next frame in BGR order and its source time in seconds, or None at the end."""
        if self.end_status is not None:
            return None
        if self._interrupted.is_set():
            return self._end("interrupted")
        item = self._next()
        if item is None:
            if self.end_status is None:  # a subclass that forgot to say why: never a silent "completed"
                self._end("error", f"{self.describe()}: the source ended without a reason")
            return None
        if self._interrupted.is_set():
            return self._end("interrupted")
        self.frames_delivered += 1
        if self._first_time_s is None:
            self._first_time_s = item[1]
        self._last_time_s = item[1]
        return item

    @abc.abstractmethod
    def _next(self) -> tuple[np.ndarray, float] | None:
        """The next frame, or None after `_end` has recorded why there is none."""

    def interrupt(self) -> None:
        """Stop: wake any reconnect wait now; every later ``read()`` returns None. Thread-safe."""
        self._interrupted.set()

    @property
    def interrupted(self) -> bool:
        return self._interrupted.is_set()

    def _end(self, status: str, error: str | None = None) -> None:
        """Record how the source ended (the first reason stays) and return None for ``read``."""
        if status not in END_STATUSES:
            raise ValueError(f"end status must be one of {', '.join(END_STATUSES)}, got {status!r}")
        if self.end_status is None:
            self.end_status, self.end_error = status, error
        return None

    def _skip(self, name: str | None = None, count: int = 1) -> None:
        """Count ``count`` undecodable frames; keep ``name`` (a folder image) while there is room."""
        self.frames_skipped += count
        if name is not None and len(self.skipped_names) < MAX_SKIPPED_NAMES:
            self.skipped_names.append(name)

    def end_facts(self) -> dict[str, Any]:
        """The end facts for a summary: status and frames delivered, then whichever others apply."""
        facts: dict[str, Any] = {"end_status": self.end_status, "frames_delivered": self.frames_delivered}
        if self.end_error is not None:
            facts["end_error"] = self.end_error
        if self.frames_expected is not None:
            facts["frames_expected"] = self.frames_expected
        for name in ("frames_skipped", "stalls", "reconnects"):
            if getattr(self, name):
                facts[name] = getattr(self, name)
        if self.skipped_names:
            facts["skipped_names"] = list(self.skipped_names)
        return facts

    @property
    def fps_measured(self) -> float | None:
        """Frames delivered per second of source time, first to last frame; None before two frames.

        For a video that is its timestamps' rate (a variable-rate file's mean), for a camera the
        rate frames arrived at.
        """
        first, last = self._first_time_s, self._last_time_s
        if self.frames_delivered < 2 or first is None or last is None or last <= first:
            return None
        return (self.frames_delivered - 1) / (last - first)

    @property
    def known_frame_count(self) -> int | None:
        """The number of frames when known before reading (a stated count, a folder's images), else None."""
        return self.frames_expected

    @property
    def name(self) -> str:
        """The source's name for a reader of its records (see the class doc); a file's name by default."""
        return os.path.basename(str(self.uri).rstrip("/\\")) or str(self.uri)

    def file_name(self, index: int) -> str | None:
        """The image file of frame ``index`` (an image folder's), else None."""
        return None

    def close(self) -> None:  # noqa: B027 - optional
        """Release the device or file."""

    def describe(self) -> str:
        return str(self.uri)
