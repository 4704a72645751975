"""`FrameView`: what one output frame shows, the `Scene` plus what only the renderer needs.

The scene says what is there (tracks, relations, detections, staleness); the view adds the image
to draw on, the pipeline's processing rate for the HUD, and which detectors are already drawn as
tracks.

Example:
    >>> view = FrameView(Scene(3, 0.1, (4, 2)), np.zeros((2, 4, 3), np.uint8), fps=30.0)
    >>> view.size, view.rgb.flags.writeable
    ((4, 2), False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestrator.scene import Scene


@dataclass(frozen=True, eq=False)
class FrameView:
    """What one output frame shows. Immutable; drawn by `orchestrator.render.render`.

    Attributes:
        scene: the frame's scene (tracks, relations, raw detections, staleness).
        rgb: the source frame, ``uint8 (H, W, 3)`` RGB, of the scene's ``frame_size``; stored as a
            read-only view (the caller's array and its flags are left alone).
        fps: the pipeline's current processing rate (frames per second), or ``None`` when not known yet.
        tracked_detectors: names of detectors whose results are already drawn as tracks
            (``hands`` / ``objects``); their raw detections are not drawn again. Every other
            detector's raw detections are drawn (for example an object detector no tracker follows).

    Raises `ValueError` when ``rgb`` is not a ``uint8 (H, W, 3)`` array of the scene's size.

    Example:
        >>> FrameView(Scene(0, 0.0, (4, 4)), np.zeros((4, 4), np.uint8))
        Traceback (most recent call last):
        ...
        ValueError: rgb must be a uint8 (H, W, 3) array, got uint8 (4, 4)
    """

    scene: Scene
    rgb: np.ndarray
    fps: float | None = None
    tracked_detectors: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        rgb = self.rgb
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            shape = getattr(rgb, "shape", None)
            raise ValueError(f"rgb must be a uint8 (H, W, 3) array, got {getattr(rgb, 'dtype', type(rgb))} {shape}")
        width, height = self.scene.frame_size
        if rgb.shape[:2] != (height, width):
            raise ValueError(f"rgb is {rgb.shape[1]}x{rgb.shape[0]}, the scene's frame is {width}x{height}")
        # A read-only view: nothing downstream can write into the shared source frame by accident,
        # and the caller's own array keeps its flags.
        view = rgb.view()
        view.setflags(write=False)
        object.__setattr__(self, "rgb", view)
        object.__setattr__(self, "tracked_detectors", frozenset(self.tracked_detectors))

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the frame, the order `VideoOut` takes."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])
