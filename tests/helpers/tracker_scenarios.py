"""Scenario builders shared by the tracker tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from detectors.detections import Detections
from trackers.track import Track
from trackers.tracker import Tracker

Box = tuple[float, float, float, float]


def dets(*boxes: Sequence[float], score: float | Sequence[float] = 0.9, label: str = "hand") -> Detections:
    """Detections with one score (or one per box) and one label for every box."""
    scores = [score] * len(boxes) if isinstance(score, (int, float)) else list(score)
    return Detections.from_lists([list(b) for b in boxes], scores, [0] * len(boxes), [label] * len(boxes))


def linear_box(frame: int, x0: float, y0: float, w0: float, h0: float, vx: float, vy: float, vw=0.0, vh=0.0) -> Box:
    """A box whose corners move linearly: centre velocity (vx, vy), size growth (vw, vh) per frame."""
    cx, cy = x0 + vx * frame, y0 + vy * frame
    w, h = w0 + vw * frame, h0 + vh * frame
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def run(
    tracker: Tracker, schedule: Iterable[tuple[int, Sequence[tuple[int, Detections]]]]
) -> dict[int, tuple[Track, ...]]:
    """Feed ``(frame, observations)`` pairs in order; return the reported tracks per frame."""
    return {frame: tracker.update(frame, observations) for frame, observations in schedule}


def max_abs_error(box: Sequence[float], truth: Sequence[float]) -> float:
    return max(abs(a - b) for a, b in zip(box, truth, strict=True))
