"""Frame times from a video's presentation timestamps, with a fallback where a backend has none.

OpenCV reports the presentation timestamp of the frame just decoded as ``CAP_PROP_POS_MSEC``
(FFmpeg: the frame's pts, counted from the stream's start, so the first frame is at 0). That is
the frame's time even when the rate varies or the header's rate is wrong. Some backends report
0 for every frame, or nothing usable (NaN, negative), or a time that goes backwards; only then
is a frame stamped ``previous time + 1 / fps`` (which is ``index / fps`` when no frame has a
timestamp), so times always increase.

Example:
    >>> clock = FrameClock(fps=4)
    >>> [clock.time_s(ms) for ms in (0.0, 40.0, 500.0, 0.0, 600.0, float("nan"), 1500.0)]
    [0.0, 0.04, 0.5, 0.75, 1.0, 1.25, 1.5]
    >>> clock.fallbacks
    3
"""

from __future__ import annotations

import math


class FrameClock:
    """Turns each decoded frame's reported position (ms) into its time in seconds.

    ``fps`` (> 0) is the rate the fallback steps by; ``fallbacks`` counts the frames stamped by it.
    """

    def __init__(self, fps: float) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        self.period_s = 1.0 / fps
        self.last_s: float | None = None
        self.fallbacks = 0

    def time_s(self, reported_ms: float) -> float:
        """The time of the frame whose reported position is ``reported_ms`` (read right after it decoded)."""
        reported = reported_ms / 1000.0 if math.isfinite(reported_ms) and reported_ms >= 0 else None
        if self.last_s is None:
            time_s = reported if reported is not None else 0.0
        elif reported is None or reported <= self.last_s:
            time_s = self.last_s + self.period_s
            self.fallbacks += 1
        else:
            time_s = reported
        self.last_s = time_s
        return time_s
