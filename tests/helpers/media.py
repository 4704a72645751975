"""Test media: small videos, scripted-detector fixtures, images read as RGB."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml


def read_rgb(path: Path) -> np.ndarray:
    """An image file as RGB uint8."""
    from orchestrator.modelstore import read_rgb as read

    return read(path)


def make_video(path: str | Path, frames: int = 30, size: tuple[int, int] = (320, 240), fps: float = 30) -> Path:
    """Write an MJPG ``.avi`` of ``frames`` frames (``size`` is width, height) with moving rectangles.

    Frame ``i`` has a red rectangle at x = 10 + 4i and a green one at y = 10 + 3i (wrapping), on a
    grey background, so consecutive frames differ.
    """
    import cv2

    path = Path(path)
    if path.suffix.lower() != ".avi":
        raise ValueError(f"make_video writes MJPG .avi files, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), float(fps), (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cv2.VideoWriter cannot write {path}")
    try:
        for i in range(frames):
            image = np.full((height, width, 3), 96, np.uint8)
            x = (10 + 4 * i) % max(1, width - 40)
            y = (10 + 3 * i) % max(1, height - 40)
            cv2.rectangle(image, (x, 20), (x + 40, 60), (0, 0, 255), -1)
            cv2.rectangle(image, (20, y), (60, y + 40), (0, 255, 0), -1)
            writer.write(image)
    finally:
        writer.release()
    if not path.exists() or path.stat().st_size == 0:
        raise RuntimeError(f"cv2.VideoWriter wrote nothing to {path}")
    return path


def write_fixture(
    path: str | Path, frames: Mapping[int, Sequence[Mapping[str, Any]]], labels: Sequence[str] = ("hand",)
) -> Path:
    """Write a ``testing.scripted`` fixture: ``frames`` maps a frame index to boxes.

    Each box is a dict with ``box`` (x1, y1, x2, y2) and optionally ``score`` (default 0.9) and
    ``label`` (default: the first label). Written as YAML, or JSON if ``path`` ends in ``.json``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "labels": list(labels),
        "frames": {
            int(index): [
                {
                    "box": [float(v) for v in entry["box"]],
                    "score": float(entry.get("score", 0.9)),
                    "label": entry.get("label", labels[0]),
                }
                for entry in entries
            ]
            for index, entries in frames.items()
        },
    }
    text = json.dumps(data) if path.suffix == ".json" else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path
