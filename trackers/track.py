"""The `Track` value every tracker reports: one tracked object on one frame.

Boxes are ``x1, y1, x2, y2`` in pixels of the original frame, as in `detectors.detections`;
keypoints are ``x, y, v`` with ``x, y`` in the same pixels and ``v`` the model's third value.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from detectors.detections import SIDES
from trackers.errors import TrackError

Box = tuple[float, float, float, float]
Keypoint = tuple[float, float, float]


class TrackState(StrEnum):
    """Life-cycle state of a track. Only confirmed (and, optionally, lost) tracks are reported.

    A `StrEnum`: each state equals its name as a string and is written as it in records.

    >>> TrackState("lost") == "lost", str(TrackState.CONFIRMED)
    (True, 'confirmed')
    """

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    LOST = "lost"


class BoxSource(StrEnum):
    """Where a reported box comes from on its frame: a matched detection, or the motion model."""

    OBSERVED = "observed"
    PREDICTED = "predicted"


def is_int(value: object) -> bool:
    """True for a Python or numpy integer, False for a bool (a flag passed as a count is a bug).

    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    # The exact-type test first: it is the common case and ABC checks are slow (Tracks are built per frame).
    return type(value) is int or (isinstance(value, numbers.Integral) and not isinstance(value, bool))


def _member(enum: type[StrEnum], name: str, value: object) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise TrackError(f"{name} must be one of {allowed}, got {value!r}") from None


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
        side: ``"left"`` or ``"right"`` (the wearer's own hand), or ``None`` when unknown. The SORT
            tracker reports one side per track, the score-weighted vote over its history.
        side_score: confidence of ``side`` in ``[0, 1]`` (SORT: the winning side's share of the
            votes), ``None`` exactly when ``side`` is.
        keypoints: the latest keypoints, ``K`` tuples ``(x, y, v)`` (pixels, and the model's third
            value), or ``None`` when the track's detections carry none.
        keypoint_names: the ``K`` names (``()`` without keypoints).
        keypoints_source: ``"observed"`` when the keypoints come from a detection on this very frame,
            ``"predicted"`` when they are the last observed ones moved with the box since (``x, y``
            translated and scaled by the box's change; ``v`` unchanged); ``None`` without keypoints.
        label_share: how sure the track is of ``label``, in ``[0, 1]``, when the tracker votes on
            labels (SORT with ``label_vote``: the voted label's share of the score-weighted votes
            over the track's detections); ``None`` when it does not (``label`` is the last detection's).

    Raises `TrackError` for any field out of its range or contradicting another.

    Example:
        >>> t = Track(1, (10, 20, 50, 80), 0.9, "hand", 0)
        >>> t.to_record()["box"], str(t.state), str(t.box_source)
        ([10.0, 20.0, 50.0, 80.0], 'confirmed', 'observed')
        >>> t = Track(2, (10, 20, 50, 80), 0.9, "hand", 0, side="right", side_score=0.75,
        ...           keypoints=((12, 22, 0),), keypoint_names=("wrist",), keypoints_source="observed")
        >>> record = t.to_record(keypoints=True)
        >>> record["side"], record["side_score"], record["keypoints"], record["keypoints_source"]
        ('right', 0.75, [[12.0, 22.0, 0.0]], 'observed')
    """

    track_id: int
    box: Box
    score: float
    label: str
    class_id: int
    state: TrackState = TrackState.CONFIRMED
    box_source: BoxSource = BoxSource.OBSERVED
    frames_since_observed: int = 0
    hits: int = 1
    age_frames: int = 0
    side: str | None = None
    side_score: float | None = None
    keypoints: tuple[Keypoint, ...] | None = None
    keypoint_names: tuple[str, ...] = ()
    keypoints_source: BoxSource | None = None
    label_share: float | None = None

    def __post_init__(self) -> None:
        if not is_int(self.track_id) or self.track_id < 1:
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
        share = self.label_share
        if share is not None:
            if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0.0 <= float(share) <= 1.0:
                raise TrackError(f"label_share must be a number in [0, 1] or None, got {share!r}")
            object.__setattr__(self, "label_share", float(share))
        if not is_int(self.class_id) or self.class_id < 0:
            raise TrackError(f"class_id must be an integer >= 0, got {self.class_id!r}")
        state = _member(TrackState, "state", self.state)
        box_source = _member(BoxSource, "box_source", self.box_source)
        for name in ("frames_since_observed", "hits", "age_frames"):
            value = getattr(self, name)
            if not is_int(value) or value < 0:
                raise TrackError(f"{name} must be an integer >= 0, got {value!r}")
        if self.hits < 1:
            raise TrackError(f"hits must be >= 1 (a track starts from a detection), got {self.hits}")
        # The two ways of saying "seen on this frame" must agree, or consumers would disagree.
        if (box_source == BoxSource.OBSERVED) != (self.frames_since_observed == 0):
            raise TrackError(
                f"box_source {self.box_source!r} contradicts frames_since_observed={self.frames_since_observed} "
                "(observed exactly when frames_since_observed == 0)"
            )
        if self.frames_since_observed > self.age_frames:
            raise TrackError(f"frames_since_observed={self.frames_since_observed} exceeds age_frames={self.age_frames}")
        self._check_side()
        self._check_keypoints(box_source)
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "box_source", box_source)
        object.__setattr__(self, "score", float(self.score))
        # Plain Python numbers, so records serialise to JSON whatever the tracker computed with.
        for name in ("track_id", "class_id", "frames_since_observed", "hits", "age_frames"):
            object.__setattr__(self, name, int(getattr(self, name)))

    def _check_side(self) -> None:
        side, score = self.side, self.side_score
        if side is not None and side not in SIDES:
            raise TrackError(f"side must be 'left', 'right' or None, got {side!r}")
        if (side is None) != (score is None):
            raise TrackError(f"side and side_score are known together, got side {side!r} with score {score!r}")
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, numbers.Real) or not 0.0 <= float(score) <= 1.0:
                raise TrackError(f"side_score must be a number in [0, 1], got {score!r}")
            object.__setattr__(self, "side_score", float(score))

    def _check_keypoints(self, box_source: StrEnum) -> None:
        names = self.keypoint_names
        if isinstance(names, str) or not all(isinstance(name, str) for name in names):
            raise TrackError(f"keypoint_names must be a sequence of strings, got {names!r}")
        if self.keypoints is None:
            if names or self.keypoints_source is not None:
                raise TrackError("keypoint_names and keypoints_source need keypoints")
            object.__setattr__(self, "keypoint_names", ())
            return
        try:
            points = tuple((float(x), float(y), float(v)) for x, y, v in self.keypoints)
        except (TypeError, ValueError):
            raise TrackError("keypoints must be K triples x, y, v") from None
        if not all(math.isfinite(c) for point in points for c in point):
            raise TrackError("keypoints contain NaN or infinite values")
        if len(names) != len(points):
            raise TrackError(f"keypoint_names must name the {len(points)} keypoints, got {len(names)} names")
        source = _member(BoxSource, "keypoints_source", self.keypoints_source)
        # Keypoints seen on a frame come from the detection that gave the box on that frame.
        if source == BoxSource.OBSERVED and box_source != BoxSource.OBSERVED:
            raise TrackError("keypoints_source 'observed' needs box_source 'observed'")
        object.__setattr__(self, "keypoints", points)
        object.__setattr__(self, "keypoint_names", tuple(names))
        object.__setattr__(self, "keypoints_source", source)

    def to_record(self, keypoints: bool = False) -> dict[str, Any]:
        """JSON-ready dict; box rounded to 0.01 px and scores to 1e-4 for stable output.

        ``label_share`` follows ``label`` when known (a label-voting tracker); ``side``/``side_score``
        are added when the side is known; ``keypoints`` (``K`` lists ``[x, y, v]`` rounded to 0.01)
        and ``keypoints_source`` only when asked and present.
        """
        record: dict[str, Any] = {
            "track_id": self.track_id,
            "box": [round(v, 2) for v in self.box],
            "score": round(self.score, 4),
            "label": self.label,
        }
        if self.label_share is not None:
            record["label_share"] = round(self.label_share, 4)
        record.update(
            class_id=self.class_id,
            state=self.state.value,
            box_source=self.box_source.value,
            frames_since_observed=self.frames_since_observed,
            hits=self.hits,
            age_frames=self.age_frames,
        )
        if self.side is not None:
            record["side"] = self.side
            record["side_score"] = round(self.side_score, 4)  # type: ignore[arg-type]
        if keypoints and self.keypoints is not None:
            record["keypoints"] = [[round(c, 2) for c in point] for point in self.keypoints]
            record["keypoints_source"] = self.keypoints_source.value  # type: ignore[union-attr]
        return record
