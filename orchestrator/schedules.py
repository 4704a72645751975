"""Detector schedules: which frames a detector is asked to run on.

The reader evaluates every schedule once per frame, in frame order, and stamps the frame with
the detectors it selects. Both modes use the same stamps: deterministic workers run on every
stamped frame; realtime workers run on the newest stamped frame when they are free, and the
stamped frames they skip are counted as that detector's drops.

Example:
    >>> s = EveryNFrames(3)
    >>> [i for i in range(7) if s.due(i, i / 30)]
    [0, 3, 6]
"""

from __future__ import annotations

import abc


class Schedule(abc.ABC):
    """Decides, frame by frame and in order, whether a detector is due."""

    @abc.abstractmethod
    def due(self, frame_index: int, time_s: float) -> bool:
        """Whether the detector should run on this frame. Called once per frame, in order."""


class EveryNFrames(Schedule):
    """Frames 0, n, 2n, ..."""

    def __init__(self, every_n_frames: int) -> None:
        if every_n_frames < 1:
            raise ValueError(f"every_n_frames must be >= 1, got {every_n_frames}")
        self.every_n_frames = every_n_frames

    def due(self, frame_index: int, time_s: float) -> bool:
        return frame_index % self.every_n_frames == 0


class MaxFps(Schedule):
    """At most ``max_fps`` runs per second of *source* time (so a file gives the same frames every run)."""

    # Source times are index / fps in floating point; allow for rounding at exact multiples.
    _EPS_S = 1e-6

    def __init__(self, max_fps: float) -> None:
        if max_fps <= 0:
            raise ValueError(f"max_fps must be > 0, got {max_fps}")
        self.period_s = 1.0 / max_fps
        self._last_s: float | None = None

    def due(self, frame_index: int, time_s: float) -> bool:
        if self._last_s is not None and time_s - self._last_s < self.period_s - self._EPS_S:
            return False
        self._last_s = time_s
        return True


def make_schedule(every_n_frames: int | None, max_fps: float | None) -> Schedule:
    """The schedule of a pipeline detector entry."""
    return MaxFps(max_fps) if max_fps is not None else EveryNFrames(every_n_frames or 1)
