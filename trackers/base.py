"""The tracker plugin interface and the `Track` value every tracker reports.

A tracker turns per-frame `Detections` into tracks with stable ids. The runtime calls
`Tracker.update` once per frame, in increasing frame order, with the detector results that
became available at that step, each tagged with the frame it was computed on::

    tracker.update(10)                        # detector did not run on frame 10: predict only
    tracker.update(11, [(11, dets_11)])       # result for the current frame
    tracker.update(14, [(12, dets_12)])       # realtime mode: a result for frame 12 arrives late

Boxes are ``x1, y1, x2, y2`` in pixels of the original frame, as in `detectors.base`.
"""

from __future__ import annotations

import abc
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from detectors.base import Detections

#: Life-cycle states of a track. Only ``confirmed`` (and, optionally, ``lost``) tracks are reported.
TRACK_STATES: tuple[str, ...] = ("tentative", "confirmed", "lost")
#: Where a reported box comes from on its frame.
BOX_SOURCES: tuple[str, ...] = ("observed", "predicted")

Box = tuple[float, float, float, float]
Observation = tuple[int, Detections]


class TrackError(ValueError):
    """A `Track` was built from invalid values."""


def _is_int(value: object) -> bool:
    # bool is a subclass of int; a flag passed where a count is expected is a bug, not a 1.
    # numbers.Integral also admits numpy integers, which arrays hand out.
    # The exact-type test first: it is the common case and ABC checks are slow (Tracks are built per frame).
    return type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, bool))


@dataclass(frozen=True)
class Track:
    """One tracked object on one frame. Immutable and validated on construction.

    Attributes:
        track_id: id, ``>= 1``, unique within one tracker run and never reused.
        box: ``x1, y1, x2, y2`` pixels on this frame (observed or predicted).
        score: score of the last detection matched to this track, in ``[0, 1]``.
        label: label of the last matched detection.
        class_id: class id of the last matched detection, ``>= 0``.
        state: ``"tentative"``, ``"confirmed"`` or ``"lost"`` (unmatched at the latest detector run).
        box_source: ``"observed"`` when a detection was matched to the track on this very frame,
            ``"predicted"`` when the box is the filter's prediction.
        frames_since_observed: frames since the last matched detection; 0 exactly when observed.
        hits: number of detections matched to the track so far, ``>= 1``.
        age_frames: frames since the track was started; 0 on its first frame.

    Example:
        >>> t = Track(1, (10, 20, 50, 80), 0.9, "hand", 0)
        >>> t.to_record()["box"], t.state, t.box_source
        ([10.0, 20.0, 50.0, 80.0], 'confirmed', 'observed')
    """

    track_id: int
    box: Box
    score: float
    label: str
    class_id: int
    state: str = "confirmed"
    box_source: str = "observed"
    frames_since_observed: int = 0
    hits: int = 1
    age_frames: int = 0

    def __post_init__(self) -> None:
        if not _is_int(self.track_id) or self.track_id < 1:
            raise TrackError(f"track_id must be an integer >= 1, got {self.track_id!r}")
        try:
            box = tuple(map(float, self.box))
        except (TypeError, ValueError):
            raise TrackError(f"box must be 4 numbers x1, y1, x2, y2, got {self.box!r}") from None
        if len(box) != 4 or not all(map(math.isfinite, box)):
            raise TrackError(f"box must be 4 finite numbers x1, y1, x2, y2, got {self.box!r}")
        if box[2] < box[0] or box[3] < box[1]:
            raise TrackError(f"box must satisfy x2 >= x1 and y2 >= y1 (x1, y1, x2, y2 order), got {box}")
        if type(self.score) is not float and (isinstance(self.score, bool) or not isinstance(self.score, numbers.Real)):
            raise TrackError(f"score must be a number, got {self.score!r}")
        if not (0.0 <= float(self.score) <= 1.0):
            raise TrackError(f"score must lie in [0, 1], got {self.score!r}")
        if not isinstance(self.label, str):
            raise TrackError(f"label must be a string, got {self.label!r}")
        if not _is_int(self.class_id) or self.class_id < 0:
            raise TrackError(f"class_id must be an integer >= 0, got {self.class_id!r}")
        if self.state not in TRACK_STATES:
            raise TrackError(f"state must be one of {', '.join(TRACK_STATES)}, got {self.state!r}")
        if self.box_source not in BOX_SOURCES:
            raise TrackError(f"box_source must be one of {', '.join(BOX_SOURCES)}, got {self.box_source!r}")
        for name in ("frames_since_observed", "hits", "age_frames"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise TrackError(f"{name} must be an integer >= 0, got {value!r}")
        if self.hits < 1:
            raise TrackError(f"hits must be >= 1 (a track starts from a detection), got {self.hits}")
        # The two ways of saying "seen on this frame" must agree, or consumers would disagree.
        if (self.box_source == "observed") != (self.frames_since_observed == 0):
            raise TrackError(
                f"box_source {self.box_source!r} contradicts frames_since_observed={self.frames_since_observed} "
                "(observed exactly when frames_since_observed == 0)"
            )
        if self.frames_since_observed > self.age_frames:
            raise TrackError(f"frames_since_observed={self.frames_since_observed} exceeds age_frames={self.age_frames}")
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "score", float(self.score))
        # Plain Python numbers, so records serialise to JSON whatever the tracker computed with.
        for name in ("track_id", "class_id", "frames_since_observed", "hits", "age_frames"):
            object.__setattr__(self, name, int(getattr(self, name)))

    def to_record(self) -> dict[str, Any]:
        """JSON-ready dict; box rounded to 0.01 px and score to 1e-4 for stable output."""
        return {
            "track_id": self.track_id,
            "box": [round(v, 2) for v in self.box],
            "score": round(self.score, 4),
            "label": self.label,
            "class_id": self.class_id,
            "state": self.state,
            "box_source": self.box_source,
            "frames_since_observed": self.frames_since_observed,
            "hits": self.hits,
            "age_frames": self.age_frames,
        }


class Tracker(abc.ABC):
    """A tracker plugin.

    A plugin subclasses `Tracker`, declares a JSON Schema of its keyword parameters and
    registers under a name::

        from trackers.base import Tracker
        from orchestrator.registry import TRACKERS

        @TRACKERS.register("my.tracker")
        class MyTracker(Tracker):
            params_schema = {"type": "object", "properties": {}, "additionalProperties": False}

            def update(self, frame_index, observations=()):
                return ()

            def reset(self):
                pass

    Contract of `update`: called once per frame with strictly increasing ``frame_index``
    (gaps allowed); ``observations`` holds the detector results that became available at
    this step, as ``(frame computed on, Detections)``. Usually empty (detector did not run:
    predict only) or ``[(frame_index, dets)]``; in realtime mode a result may be late,
    ``(j, dets)`` with ``j < frame_index``. A late result must never be applied as if it were
    current: apply it at frame ``j`` or drop it and count it in `late_dropped`.
    """

    #: JSON Schema of the keyword parameters accepted by ``__init__``.
    params_schema: ClassVar[Mapping[str, Any]] = {"type": "object", "properties": {}, "additionalProperties": False}

    #: Late results dropped because they were older than the tracker can roll back to.
    late_dropped: int = 0

    @abc.abstractmethod
    def update(self, frame_index: int, observations: Sequence[Observation] = ()) -> tuple[Track, ...]:
        """Advance to ``frame_index`` and return the tracks to report on that frame."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget everything: the next `update` starts a new run (ids start at 1 again)."""


# --------------------------------------------------------------------------- helpers for plugins
def check_params(owner: str, schema: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """Check ``params`` against the subset of JSON Schema used by ``params_schema``.

    Supports ``type`` (integer, number, boolean, string), ``minimum``, ``maximum``,
    ``exclusiveMinimum``, ``exclusiveMaximum`` and ``enum``. Raises `ValueError` naming the
    parameter, the allowed range and the value given. Trackers call it from ``__init__`` so
    that direct construction is checked as strictly as a pipeline file is.

    Example:
        >>> schema = {"properties": {"n": {"type": "integer", "minimum": 1}}}
        >>> check_params("demo", schema, {"n": 0})
        Traceback (most recent call last):
        ...
        ValueError: demo tracker: parameter 'n' must be an integer >= 1, got 0
    """
    properties = schema.get("properties", {})
    for name, value in params.items():
        spec = properties.get(name)
        if spec is None:
            valid = ", ".join(sorted(properties)) or "(none)"
            raise ValueError(f"{owner} tracker: unknown parameter {name!r}; valid parameters: {valid}")
        kind = spec.get("type")
        words = {"integer": "an integer", "number": "a number", "boolean": "true or false", "string": "a string"}
        ok = {
            "integer": _is_int(value),
            "number": isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value),
            "boolean": isinstance(value, bool),
            "string": isinstance(value, str),
        }.get(kind, True)
        if not ok:
            raise ValueError(f"{owner} tracker: parameter {name!r} must be {words[kind]}, got {value!r}")
        if "enum" in spec and value not in spec["enum"]:
            raise ValueError(f"{owner} tracker: parameter {name!r} must be one of {spec['enum']}, got {value!r}")
        bounds = []
        if "minimum" in spec:
            bounds.append((">=", spec["minimum"], value >= spec["minimum"]))
        if "exclusiveMinimum" in spec:
            bounds.append((">", spec["exclusiveMinimum"], value > spec["exclusiveMinimum"]))
        if "maximum" in spec:
            bounds.append(("<=", spec["maximum"], value <= spec["maximum"]))
        if "exclusiveMaximum" in spec:
            bounds.append(("<", spec["exclusiveMaximum"], value < spec["exclusiveMaximum"]))
        if not all(passed for _, _, passed in bounds):
            allowed = " and ".join(f"{op} {limit}" for op, limit, _ in bounds)
            raise ValueError(
                f"{owner} tracker: parameter {name!r} must be {words.get(kind, '')} {allowed}, got {value!r}"
            )


def check_observations(frame_index: int, observations: Sequence[Observation]) -> list[Observation]:
    """Validate `Tracker.update` arguments; returns the observations as a list.

    Raises `TypeError` for wrong types and `ValueError` for a result from the future.
    """
    if not _is_int(frame_index) or frame_index < 0:
        raise ValueError(f"frame_index must be an integer >= 0, got {frame_index!r}")
    checked: list[Observation] = []
    for item in observations:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise TypeError(f"each observation must be a (frame_index, Detections) pair, got {item!r}")
        frame, dets = item
        if not _is_int(frame) or frame < 0:
            raise ValueError(f"observation frame index must be an integer >= 0, got {frame!r}")
        if not isinstance(dets, Detections):
            raise TypeError(f"observation for frame {frame} must be a Detections value, got {type(dets).__name__}")
        if frame > frame_index:
            raise ValueError(f"observation for frame {frame} is from the future of frame {frame_index}")
        checked.append((frame, dets))
    return checked


def concat_detections(parts: Sequence[Detections]) -> Detections:
    """Several results for the same frame, as one `Detections` (order kept)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return Detections.empty()
    return Detections(
        np.concatenate([p.boxes for p in parts]),
        np.concatenate([p.scores for p in parts]),
        np.concatenate([p.class_ids for p in parts]),
        tuple(label for p in parts for label in p.labels),
    )
