"""Micro-benchmark of a registered tracker's per-frame cost (the README's tracker cost figure).

Hands are simulated as boxes moving at constant velocity and bouncing off the borders of a
1920 × 1080 frame, with detection noise and occasional misses. The scenario is generated before
timing starts; only `Tracker.update` calls are timed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from detectors.detections import Detections
from orchestrator.registry import TRACKERS

#: ``(width, height)`` in pixels of the simulated frame.
FRAME_SIZE = (1920, 1080)


def simulate_hands(
    n_tracks: int, n_frames: int, seed: int = 0, *, miss_rate: float = 0.05, noise_px: float = 3.0
) -> list[Detections]:
    """Per-frame noisy detections of ``n_tracks`` hands bouncing around a 1920 × 1080 frame.

    Example:
        >>> frames = simulate_hands(2, 3)
        >>> len(frames), len(frames[0])
        (3, 2)
    """
    rng = np.random.default_rng(seed)
    width, height = FRAME_SIZE
    size = rng.uniform(120, 300, size=(n_tracks, 2))
    pos = rng.uniform([0, 0], [width - 300, height - 300], size=(n_tracks, 2))
    vel = rng.uniform(-12, 12, size=(n_tracks, 2))
    frames = []
    for index in range(n_frames):
        pos += vel
        # Bounce off the borders so the hands stay in view for the whole run.
        low, high = pos < 0, pos + size > (width, height)
        vel[low | high] *= -1
        pos = np.clip(pos, 0, np.array([width, height]) - size)
        boxes = np.hstack([pos, pos + size]) + rng.normal(0, noise_px, size=(n_tracks, 4))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        seen = rng.random(n_tracks) >= miss_rate if index else np.ones(n_tracks, bool)
        scores = rng.uniform(0.6, 0.95, size=n_tracks)
        frames.append(
            Detections(boxes[seen], scores[seen], np.zeros(int(seen.sum()), np.int32), ("hand",) * int(seen.sum()))
        )
    return frames


def benchmark_tracker(
    n_tracks: int = 4,
    n_frames: int = 2000,
    seed: int = 0,
    *,
    tracker: str = "sort",
    params: Mapping[str, Any] | None = None,
    detect_every: int = 1,
    latency_frames: int = 0,
) -> dict[str, Any]:
    """Time ``tracker.update`` with ``n_tracks`` moving hands over ``n_frames`` frames.

    ``detect_every`` > 1 runs the detector only on every n-th frame (the others predict only).
    ``latency_frames`` > 0 delivers each result that many frames late (realtime mode), so every
    result costs the SORT tracker a rollback and a replay of ``latency_frames + 1`` frames.
    Returns the median, 90th percentile, mean and maximum milliseconds per update, plus the number
    of distinct track ids seen (``n_tracks`` when the tracker never lost a hand).

    Example:
        >>> result = benchmark_tracker(n_tracks=2, n_frames=50)
        >>> result["n_tracks"], result["distinct_ids"], result["median_ms"] > 0
        (2, 2, True)
    """
    if n_tracks < 0 or n_frames < 1 or detect_every < 1 or latency_frames < 0:
        raise ValueError("need n_tracks >= 0, n_frames >= 1, detect_every >= 1 and latency_frames >= 0")
    detections = simulate_hands(n_tracks, n_frames, seed)
    instance = TRACKERS.get(tracker).obj(**dict(params or {}))
    timings_ms: list[float] = []
    ids: set[int] = set()
    for frame in range(n_frames):
        computed_on = frame - latency_frames
        ran = computed_on >= 0 and computed_on % detect_every == 0
        observations = [(computed_on, detections[computed_on])] if ran else []
        start = time.perf_counter()
        tracks = instance.update(frame, observations)
        timings_ms.append((time.perf_counter() - start) * 1e3)
        ids.update(t.track_id for t in tracks)
    ordered = sorted(timings_ms)
    return {
        "tracker": tracker,
        "n_tracks": n_tracks,
        "n_frames": n_frames,
        "detect_every": detect_every,
        "latency_frames": latency_frames,
        "median_ms": round(statistics.median(ordered), 4),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 4),
        "mean_ms": round(statistics.fmean(ordered), 4),
        "max_ms": round(ordered[-1], 4),
        "distinct_ids": len(ids),
    }
