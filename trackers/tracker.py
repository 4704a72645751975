"""The tracker plugin interface.

A tracker turns per-frame `Detections` into tracks with stable ids. The runtime calls
`Tracker.update` once per frame, in increasing frame order, with the detector results that
became available at that step, each tagged with the frame it was computed on::

    tracker.update(10)                        # detector did not run on frame 10: predict only
    tracker.update(11, [(11, dets_11)])       # result for the current frame
    tracker.update(14, [(12, dets_12)])       # realtime mode: a result for frame 12 arrives late

Boxes are ``x1, y1, x2, y2`` in pixels of the original frame, as in `detectors.detections`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from detectors.detections import Detections
from trackers.errors import ObservationTypeError, TrackerUsageError
from trackers.track import Track, is_int

Observation = tuple[int, Detections]


class Tracker(abc.ABC):
    """A tracker plugin.

    A plugin subclasses `Tracker` and declares a JSON Schema of its keyword parameters; a
    pipeline names it by dotted path or by an ``orchestrator.trackers`` entry point::

        from trackers.tracker import Tracker

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


def check_observations(frame_index: int, observations: Sequence[Observation]) -> list[Observation]:
    """Validate `Tracker.update` arguments; returns the observations as a list.

    Raises `ObservationTypeError` (a `TypeError`) for wrong types and `TrackerUsageError`
    (a `ValueError`) for a bad frame index or a result from the future.
    """
    if not is_int(frame_index) or frame_index < 0:
        raise TrackerUsageError(f"frame_index must be an integer >= 0, got {frame_index!r}")
    checked: list[Observation] = []
    for item in observations:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ObservationTypeError(f"each observation must be a (frame_index, Detections) pair, got {item!r}")
        frame, dets = item
        if not is_int(frame) or frame < 0:
            raise TrackerUsageError(f"observation frame index must be an integer >= 0, got {frame!r}")
        if not isinstance(dets, Detections):
            raise ObservationTypeError(
                f"observation for frame {frame} must be a Detections value, got {type(dets).__name__}"
            )
        if frame > frame_index:
            raise TrackerUsageError(f"observation for frame {frame} is from the future of frame {frame_index}")
        checked.append((frame, dets))
    return checked
