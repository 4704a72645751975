"""Frames from the caller's own iterable: RGB arrays, or ``(array, time_s)`` pairs.

``orchestrator.run(pipeline, source=frames)`` takes any iterable (a list, a generator reading a
robot's camera, an array of shape ``(N, H, W, 3)``). Each item is a ``uint8`` ``(H, W, 3)`` array
in RGB order, timed ``index / fps`` (the pipeline's ``source.fps``, or 30), or a pair
``(array, time_s)`` with its own time in seconds (finite, never before the previous frame's).
An item of another kind ends the source with ``error`` and a one-line message naming the item;
frames before it are processed. The iterable is read by the runtime's reader thread, one item per
frame, as the pipeline takes them (deterministic by default: every frame is processed).

Example:
    >>> import numpy as np
    >>> source = IterableSource([np.zeros((4, 6, 3), np.uint8), (np.ones((4, 6, 3), np.uint8), 0.5)])
    >>> [(bgr.shape, t) for bgr, t in iter(source.read, None)], source.end_status
    ([((4, 6, 3), 0.0), ((4, 6, 3), 0.5)], 'completed')
    >>> bad = IterableSource(["frame.jpg"])
    >>> bad.read(), bad.end_status, bad.end_error
    (None, 'error', 'frames: item 0: expected a uint8 numpy array (H, W, 3) or (array, time_s), got str')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np

from orchestrator.sources.base import Source


def is_frame_iterable(value: Any) -> bool:
    """True for what `IterableSource` takes: an iterable that is not a path, URL or camera index."""
    return not isinstance(value, str | bytes | int) and isinstance(value, Iterable) and not hasattr(value, "__fspath__")


class IterableSource(Source):
    """The caller's frames (see the module doc); ``describe()`` is ``"frames"``."""

    kind = "frames"

    def __init__(self, items: Iterable[Any], fps: float | None = None) -> None:
        super().__init__("frames", fps)
        self._items = iter(items)
        self._index = 0
        self._last_time: float | None = None
        self.frame_count = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]

    def _next(self) -> tuple[np.ndarray, float] | None:
        try:
            item = next(self._items)
        except StopIteration:
            return self._end("completed")
        where = f"frames: item {self._index}"
        image, time_s = item if isinstance(item, tuple) and len(item) == 2 else (item, None)
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            what = f"{image.dtype} array {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            return self._end("error", f"{where}: expected a uint8 numpy array (H, W, 3) or (array, time_s), got {what}")
        if image.shape[0] < 1 or image.shape[1] < 1:
            return self._end("error", f"{where}: the image is empty: {image.shape}")
        if time_s is None:
            time_s = self._index / self.fps
        elif isinstance(time_s, bool) or not isinstance(time_s, int | float) or not math.isfinite(time_s):
            return self._end("error", f"{where}: time_s must be a finite number of seconds, got {time_s!r}")
        if self._last_time is not None and time_s < self._last_time:
            return self._end("error", f"{where}: time_s {time_s} is before the previous frame's {self._last_time}")
        if self._index == 0:
            self.height, self.width = image.shape[:2]
        self._index += 1
        self._last_time = float(time_s)
        # A copy in the runtime's order (BGR): the caller may reuse its buffer for the next frame.
        return cv2.cvtColor(image, cv2.COLOR_RGB2BGR), float(time_s)

    @property
    def known_frame_count(self) -> int | None:
        """``len(items)`` when the iterable has a length (a list, an array), else None."""
        return self.frame_count

    @property
    def name(self) -> str:
        return "frames"

    def describe(self) -> str:
        return "frames"
