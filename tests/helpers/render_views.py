"""Builders of small scenes and views for the renderer's pixel tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.render import FrameView, Style
from orchestrator.scene import Scene
from trackers.track import Track

BACKGROUND_RGB = (70, 60, 50)
BACKGROUND_BGR = BACKGROUND_RGB[::-1]
NO_HUD = Style(show_hud=False)


def frame(width: int = 320, height: int = 240, rgb: tuple[int, int, int] = BACKGROUND_RGB) -> np.ndarray:
    image = np.empty((height, width, 3), np.uint8)
    image[:] = rgb
    return image


def hand(track_id: int, box: tuple[float, float, float, float], predicted: bool = False) -> Track:
    if predicted:
        return Track(track_id, box, 0.9, "hand", 0, box_source="predicted", frames_since_observed=2, age_frames=4)
    return Track(track_id, box, 0.9, "hand", 0)


def cup(track_id: int, box: tuple[float, float, float, float]) -> Track:
    return Track(track_id, box, 0.6, "cup", 41)


def view(
    rgb: np.ndarray,
    frame_index: int = 0,
    time_s: float = 0.0,
    *,
    fps: float | None = None,
    tracked_detectors: frozenset[str] = frozenset(),
    **scene: Any,
) -> FrameView:
    """The view of ``rgb`` with a scene of its size (``scene``: `Scene` fields)."""
    height, width = rgb.shape[:2]
    return FrameView(Scene(frame_index, time_s, (width, height), **scene), rgb, fps, tracked_detectors)


def px(image: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in image[y, x])
