"""`RateMeter`: the pipeline's frames per second for the HUD, not shown until it means something.

A rate from the first one or two frames is noise (the first frame's wait for the models, a burst
of buffered frames): the meter answers None ("measuring") until it has seen ``min_frames``
frames over at least ``min_span_s`` seconds, then the rate over the last ``window_s`` seconds,
so it follows a change of pace within a couple of seconds.

Example:
    >>> meter = RateMeter()
    >>> [meter.tick(i / 30) for i in range(3)][-1] is None    # 3 frames in 0.07 s: too early
    True
    >>> round([meter.tick(i / 30) for i in range(3, 60)][-1], 1)
    30.0
"""

from __future__ import annotations

from collections import deque


class RateMeter:
    """Frames per second over a sliding window of wall time, None until warmed up.

    Args:
        min_frames: frames seen before a rate is given (at least 2).
        min_span_s: seconds between the first and the latest frame before a rate is given.
        window_s: the rate is over the frames of the last ``window_s`` seconds (> 0).

    Raises `ValueError` for values outside those ranges. Not thread-safe: one thread ticks it.
    """

    def __init__(self, min_frames: int = 10, min_span_s: float = 0.5, window_s: float = 2.0) -> None:
        if min_frames < 2 or min_span_s < 0 or window_s <= 0:
            raise ValueError(
                f"need min_frames >= 2, min_span_s >= 0 and window_s > 0, got {min_frames}, {min_span_s}, {window_s}"
            )
        self.min_frames = min_frames
        self.min_span_s = min_span_s
        self.window_s = window_s
        self._first_s: float | None = None
        self._count = 0
        # Bounded by time (trimmed to the window) and by count (a burst of frames at one instant).
        self._times: deque[float] = deque(maxlen=10_000)

    def tick(self, now_s: float) -> float | None:
        """Count one frame at ``now_s`` (a monotonic clock, seconds); returns the current `rate`."""
        if self._first_s is None:
            self._first_s = now_s
        self._count += 1
        self._times.append(now_s)
        # Keep one frame older than the window: the rate spans whole frame intervals.
        while len(self._times) > 2 and self._times[1] <= now_s - self.window_s:
            self._times.popleft()
        return self.rate

    @property
    def rate(self) -> float | None:
        """Frames per second over the window, or None while measuring (too few frames or too little time)."""
        if self._first_s is None or self._count < self.min_frames:
            return None
        if self._times[-1] - self._first_s < self.min_span_s:
            return None
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else None
