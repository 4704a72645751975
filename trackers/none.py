"""The no-tracking baseline (built-in name ``"none"``): each detector result as it is.

It answers "what does the tracker add?": `eval-tracking --tracker none` scores raw detections
with ids carried over by IoU alone, under the same score bar and IoU gate as the tracker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from detectors.detections import Detections
from detectors.geometry import iou_matrix, same_label_mask
from detectors.params import check_params
from trackers.association import match_by_iou
from trackers.errors import TrackerUsageError
from trackers.track import Track
from trackers.tracker import Observation, Tracker, check_observations

_NONE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "min_iou": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1,
            "default": 0.3,
            "description": "IoU with a box of the previous detector result needed to keep its id",
        },
        "min_score": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.5,
            "description": "detections below this score are not reported",
        },
        "class_aware": {
            "type": "boolean",
            "default": False,
            "description": "only carry an id over between detections with the same label",
        },
    },
}


class NoTracker(Tracker):
    """Baseline without motion model: reports each detector result as it is.

    Ids carry over from the previous detector result by IoU matching (Hungarian, gate
    ``min_iou``); unmatched detections get new ids. Each track carries its detection's side
    (no vote: the side on this frame) and keypoints (observed). Frames without a current result report
    nothing; late results are dropped (counted in ``late_dropped``), never shown as current.

    Example:
        >>> from detectors import Detections
        >>> tracker = NoTracker()
        >>> dets = Detections.from_lists([[0, 0, 50, 50]], [0.9], [0], ["hand"])
        >>> [t.track_id for t in tracker.update(0, [(0, dets)])], tracker.update(1)
        ([1], ())
    """

    params_schema: ClassVar[dict[str, Any]] = _NONE_SCHEMA

    def __init__(self, *, min_iou: float = 0.3, min_score: float = 0.5, class_aware: bool = False) -> None:
        params = {"min_iou": min_iou, "min_score": min_score, "class_aware": class_aware}
        check_params("none tracker", self.params_schema, params)
        self.min_iou = float(min_iou)
        self.min_score = float(min_score)
        self.class_aware = class_aware
        self.reset()

    def reset(self) -> None:
        """Forget the previous result and counters; ids start at 1 again."""
        self._previous: tuple[Track, ...] = ()
        self._next_id = 1
        self._last_frame: int | None = None
        self._seen = 0  # frame of the previous result, for age_frames
        self.late_dropped = 0

    def update(self, frame_index: int, observations: Sequence[Observation] = ()) -> tuple[Track, ...]:
        """Report the detections computed on ``frame_index``, with ids carried over by IoU."""
        checked = check_observations(frame_index, observations)
        if self._last_frame is not None and frame_index <= self._last_frame:
            raise TrackerUsageError(f"frame_index must increase: got {frame_index} after {self._last_frame}")
        self._last_frame = frame_index
        current = [dets for frame, dets in checked if frame == frame_index]
        self.late_dropped += len(checked) - len(current)
        if not current:
            return ()
        dets = Detections.concat(current)
        dets = dets.select(dets.scores >= self.min_score)
        previous = self._previous
        iou = iou_matrix([t.box for t in previous], dets.boxes)
        if self.class_aware and previous and len(dets):
            iou = np.where(same_label_mask([t.label for t in previous], dets.labels), iou, 0.0)
        matches, _, _ = match_by_iou(iou, self.min_iou)
        carried = {d: previous[p] for p, d in matches}
        tracks = []
        for d in range(len(dets)):
            before = carried.get(d)
            if before is None:
                track_id, hits, age = self._next_id, 1, 0
                self._next_id += 1
            else:
                track_id, hits, age = before.track_id, before.hits + 1, before.age_frames + (frame_index - self._seen)
            tracks.append(
                Track(
                    track_id=track_id,
                    box=tuple(float(v) for v in dets.boxes[d]),  # type: ignore[arg-type]
                    score=float(dets.scores[d]),
                    label=dets.labels[d],
                    class_id=int(dets.class_ids[d]),
                    hits=hits,
                    age_frames=age,
                    side=dets.sides[d],
                    side_score=dets.side_scores[d],
                    keypoints=None if dets.keypoints is None else dets.keypoints[d].tolist(),
                    keypoint_names=dets.keypoint_names if dets.keypoints is not None else (),
                    keypoints_source="observed" if dets.keypoints is not None else None,
                )
            )
        self._previous = tuple(sorted(tracks, key=lambda t: t.track_id))
        self._seen = frame_index
        return self._previous
