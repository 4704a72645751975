"""Deterministic detectors for tests, examples and runtime benchmarks.

* ``testing.scripted`` replays boxes from a fixture file, keyed by frame index, optionally with
  a fixed or random delay and an injected failure — the tool for proving ordering,
  determinism, drop accounting and crash handling without a model.
* ``testing.noop`` returns nothing, as fast as possible: the runtime's own overhead.

Fixture format (JSON or YAML)::

    labels: [hand, cup]
    frames:
      0: [{box: [10, 20, 110, 140], score: 0.9, label: hand}]
      3: [{box: [12, 22, 112, 142], score: 0.8, label: hand},
          {box: [200, 200, 260, 280], score: 0.5, label: cup}]
    # optional: boxes for every frame not listed in `frames`
    default: []
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import yaml

from detectors.detections import Detections
from detectors.detector import Detector
from detectors.errors import FixtureError


def load_fixture(path: str | Path) -> tuple[tuple[str, ...], dict[int, Detections], Detections]:
    """Read a fixture file into ``(labels, {frame: Detections}, default)``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read fixture: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise FixtureError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("labels"), list):
        raise FixtureError(f"{path}: expected a mapping with 'labels' (a list) and 'frames' (frame -> boxes)")
    labels = tuple(str(label) for label in data["labels"])

    def parse(entries: Any, where: str) -> Detections:
        if not isinstance(entries, list):
            raise FixtureError(f"{path}: {where}: expected a list of boxes")
        try:
            for entry in entries:
                if entry["label"] not in labels:
                    raise FixtureError(f"{path}: {where}: label {entry['label']!r} is not one of {list(labels)}")
            return Detections.from_records(
                {**entry, "class_id": labels.index(entry["label"]), "score": entry.get("score", 1.0)}
                for entry in entries
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, FixtureError):
                raise
            raise FixtureError(f"{path}: {where}: {exc}") from exc

    frames_raw = data.get("frames") or {}
    if not isinstance(frames_raw, Mapping):
        raise FixtureError(f"{path}: 'frames' must map frame indices to lists of boxes")
    frames = {int(k): parse(v, f"frames.{k}") for k, v in frames_raw.items()}
    default = parse(data.get("default") or [], "default")
    return labels, frames, default


class ScriptedDetector(Detector):
    """Replays boxes from a fixture file by frame index; see the module docstring.

    Example:
        >>> det = ScriptedDetector(fixture="tests/data/fixtures/two_hands.yaml")  # doctest: +SKIP
        >>> det.load(); det.detect_frame(frame, frame_index=0, time_s=0.0)       # doctest: +SKIP
    """

    labels: tuple[str, ...] = ()  # set by the fixture
    params_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["fixture"],
        "properties": {
            "fixture": {"type": "string", "description": "JSON or YAML file of boxes per frame"},
            "delay_ms": {"type": "number", "minimum": 0, "maximum": 60000, "description": "fixed delay per call"},
            "jitter_ms": {"type": "number", "minimum": 0, "maximum": 60000, "description": "extra random delay"},
            "seed": {"type": ["integer", "null"], "description": "seed of the jitter; null: a fresh random seed"},
            "fail_at_frame": {"type": ["integer", "null"], "minimum": 0, "description": "raise on this frame"},
        },
    }
    path_params: ClassVar[tuple[str, ...]] = ("fixture",)

    def __init__(
        self,
        fixture: str,
        delay_ms: float = 0.0,
        jitter_ms: float = 0.0,
        seed: int | None = None,
        fail_at_frame: int | None = None,
    ) -> None:
        self.fixture = fixture
        self.delay_ms = float(delay_ms)
        self.jitter_ms = float(jitter_ms)
        self.fail_at_frame = fail_at_frame
        self._rng = random.Random(seed)
        # Read the fixture now so a bad file is reported when the pipeline loads, not mid-run.
        self.labels, self._frames, self._default = load_fixture(fixture)

    def detect(self, image: np.ndarray) -> Detections:
        """Without a frame index there is nothing to replay but the default boxes."""
        return self._default

    def detect_frame(self, image: np.ndarray, frame_index: int, time_s: float) -> Detections:
        delay = self.delay_ms + (self._rng.uniform(0.0, self.jitter_ms) if self.jitter_ms else 0.0)
        if delay:
            time.sleep(delay / 1000.0)
        if self.fail_at_frame is not None and frame_index == self.fail_at_frame:
            raise RuntimeError(f"scripted failure at frame {frame_index}")
        height, width = image.shape[:2]
        return self._frames.get(frame_index, self._default).clip(width, height)


class NoopDetector(Detector):
    """Returns no detections, immediately: measures the runtime's own overhead.

    Example:
        >>> len(NoopDetector().detect(np.zeros((4, 4, 3), np.uint8)))
        0
    """

    labels: tuple[str, ...] = ()
    params_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"delay_ms": {"type": "number", "minimum": 0, "maximum": 60000}},
    }

    def __init__(self, delay_ms: float = 0.0) -> None:
        self.delay_ms = float(delay_ms)
        self._empty = Detections.empty()

    def detect(self, image: np.ndarray) -> Detections:
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000.0)
        return self._empty
