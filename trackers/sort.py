"""SORT-style hand tracker: Kalman + IoU, two-pass association (built-in name ``"sort"``).

`SortTracker`:

* every track carries a `BoxKalmanFilter` (constant velocity over centre and size), predicted once
  per frame, so frames where the detector did not run still get a box (``box_source="predicted"``);
* on frames with a detector result, tracks are matched to detections by `trackers.association.associate`
  (high-score detections first, then low-score ones for the tracks left over);
* life cycle: a new track starts *tentative* from an unmatched high-score detection; it becomes
  *confirmed* after ``min_hits`` matched detections (the first included) and is removed the first
  time a detector run does not match it. A confirmed track that a detector run does not match
  becomes *lost*; a later match makes it confirmed again; it is removed once more than
  ``max_age_frames`` frames have passed since its last match. A lost track coasts at its last
  velocity, damped by ``lost_velocity_decay`` on each lost frame (1, the default, keeps it: exact
  for linear motion through a miss; below 1 the box slows down, for objects such as hands that
  rarely keep their velocity while unseen);
* reported on each frame: confirmed tracks (observed or predicted box) and, when ``report_lost``
  is true (the default), lost tracks not yet removed, with ``state="lost"`` and their predicted
  box, so a consumer can tell them apart; tentative tracks are never reported;
* late results (realtime mode) are applied at the frame they were computed on: the tracker keeps
  a snapshot of its state before each of the last ``max_latency_frames`` frames, restores the one
  before the late frame and replays the frames up to the current one with every result it has for
  them. Results older than that are dropped and counted in ``late_dropped``. A late result can
  therefore also revive a track that had been removed for age in the meantime (same id), when it
  shows that the track was in fact matched in time.

* sides: each track keeps a score-weighted vote over its history, one weight per side (the sum of
  the ``side_score`` of every matched detection that gave that side). The track's side is the side
  with the larger weight, its ``side_score`` that side's share of the weights, so a hand whose
  per-frame side flips now and then keeps one side. Once a confirmed (or lost) track's vote is
  settled (the voted side leads by at least ``side_margin``), the track never takes a detection of
  the opposite side (`trackers.association.associate`): a left and a right hand crossing or
  meeting cannot swap ids. Such a barred detection that overlaps the track (IoU at least
  ``min_iou``) does not start a new track either: it is most likely that very hand with its side
  misread on one frame, and a second track for it would steal the hand's next detections. Until
  the vote is settled (a track's first frames), detections of either side match on IoU, and their
  sides vote, so one misread first frame cannot fix a wrong side. Detections without a side match
  on IoU alone, as before;
* labels (``label_vote``, for objects): each track keeps the same kind of vote over the labels of
  its matched detections, each adding its detection score to its label (`_Vote`, the mechanism of
  the side vote). The track reports the label with the largest sum (a tie goes to the label that
  entered the vote first, so a tie never flips it) and ``label_share``, that label's share of the
  sums. With ``class_aware`` false (the default) association ignores labels, so an object that the
  detector calls "bottle" on some frames and "cup" on others is one track, whose label is the
  score-weighted majority. Without ``label_vote`` a track reports its last detection's label and
  no ``label_share`` (hands: one label, records unchanged);
* keypoints: a track holds the latest observed keypoints; on a frame without them it reports them
  moved with its box (translated and scaled by the change of the box since they were observed),
  with ``keypoints_source="predicted"``. The votes and the keypoints are part of the per-track state
  that rollback snapshots, so a late result replays them too.

Ids are per instance, start at 1 and are never reused. A replay must not rename what was already
reported: the tracker remembers which track took each detection of the history window, and a track
the replay (re)creates takes the id that its detections had before, when that id is free; fresh ids
the replay drew but did not keep are given back. So a late result gives the same tracks, ids
included, as the same result on time, except in tangles the replay resolves differently (two
tracks claiming one old id, several tracks started between the late frame and now).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from detectors.detections import Detections
from detectors.geometry import iou_matrix
from detectors.params import check_params
from trackers.association import associate
from trackers.errors import TrackerUsageError
from trackers.kalman import BoxKalmanFilter, KalmanSnapshot
from trackers.track import BoxSource, Track, TrackState
from trackers.tracker import Observation, Tracker, check_observations

TENTATIVE, CONFIRMED, LOST = TrackState.TENTATIVE, TrackState.CONFIRMED, TrackState.LOST


@dataclass(frozen=True, slots=True)
class _Vote:
    """A score-weighted vote: the summed weight of each choice, in the order choices first got a vote.

    Immutable (`add` returns a new vote), so a track snapshot shares it safely. Used for a hand
    track's side and for an object track's label.

    >>> vote = _Vote().add("bottle", 0.5).add("cup", 0.25).add("cup", 0.5)
    >>> vote.winner(), vote.lead()
    (('cup', 0.6), 0.25)
    >>> _Vote().add("a", 0.5).add("b", 0.5).winner(), _Vote().add("a", 0.5).add("b", 0.5).leader()
    ((None, None), ('a', 0.5))
    """

    weights: tuple[tuple[Hashable, float], ...] = ()

    def add(self, choice: Hashable, weight: float) -> _Vote:
        """The vote with ``weight`` added to ``choice``."""
        for index, (known, summed) in enumerate(self.weights):
            if known == choice:
                return _Vote((*self.weights[:index], (known, summed + weight), *self.weights[index + 1 :]))
        return _Vote((*self.weights, (choice, weight)))

    def _ranked(self) -> tuple[int, float, float]:
        """Index of the first choice with the largest weight, that weight, and the next largest (0 if none)."""
        best, top, second = -1, 0.0, 0.0
        for index, (_, weight) in enumerate(self.weights):
            if best < 0 or weight > top:
                best, top, second = index, weight, (top if best >= 0 else second)
            elif weight > second:
                second = weight
        return best, top, second

    def _share(self, weight: float) -> float:
        total = sum(w for _, w in self.weights)
        return weight / total if total > 0 else 1.0 / len(self.weights)

    def lead(self) -> float:
        """How much the largest weight exceeds the next one (0 without votes)."""
        _, top, second = self._ranked()
        return top - second

    def winner(self) -> tuple[Hashable | None, float | None]:
        """The choice with the largest weight and its share; ``(None, None)`` without votes or on a tie for first."""
        best, top, second = self._ranked()
        if best < 0 or top == second:
            return None, None
        return self.weights[best][0], self._share(top)

    def leader(self) -> tuple[Hashable | None, float | None]:
        """Like `winner`, but a tie goes to the tied choice that got its first vote first."""
        best, top, _ = self._ranked()
        return (None, None) if best < 0 else (self.weights[best][0], self._share(top))


@dataclass(slots=True)
class _LiveTrack:
    """Per-track state inside `SortTracker` (never handed out; `Track` is the public view).

    Mutable while live, with a `BoxKalmanFilter` as ``kf``; a history snapshot is the same
    record with the filter's immutable `KalmanSnapshot` instead, and is never mutated.
    """

    track_id: int
    kf: BoxKalmanFilter | KalmanSnapshot
    score: float
    label: str
    class_id: int
    state: TrackState
    hits: int
    age_frames: int
    frames_since_observed: int
    #: Sum of matched detections' side scores, per side: the side vote.
    side_votes: _Vote = _Vote()
    #: Sum of matched detections' scores, per (label, class id): the label vote (``label_vote`` only).
    label_votes: _Vote = _Vote()
    #: Latest observed keypoints (read-only float32 ``(K, 3)``), their names, the track's box on
    #: the frame they were observed (the reference for moving them with the box), and frames since.
    keypoints: np.ndarray | None = None
    keypoint_names: tuple[str, ...] = ()
    keypoints_box: tuple[float, float, float, float] | None = None
    keypoints_age: int = 0

    def observe_extras(self, dets: Detections, d_index: int, vote_label: bool) -> None:
        """Add detection ``d_index``'s side (and label) to the votes and take its keypoints (after the box update)."""
        side = dets.sides[d_index]
        if side is not None:
            self.side_votes = self.side_votes.add(side, float(dets.side_scores[d_index]))  # type: ignore[arg-type]
        if vote_label:
            choice = (dets.labels[d_index], int(dets.class_ids[d_index]))
            self.label_votes = self.label_votes.add(choice, float(dets.scores[d_index]))
        if dets.keypoints is not None:
            self.keypoints = dets.keypoints[d_index]
            self.keypoint_names = dets.keypoint_names
            self.keypoints_box = self.kf.box
            self.keypoints_age = 0

    def settled_side(self, margin: float) -> str | None:
        """The voted side once it leads the other by ``margin`` (sum of side scores) on a non-tentative track."""
        if self.state == TENTATIVE or self.side_votes.lead() < margin:
            return None
        return self.side_votes.winner()[0]  # type: ignore[return-value]

    def voted_side(self) -> tuple[str | None, float | None]:
        """The side with the larger vote and its share of the votes; ``(None, None)`` without votes or on a tie."""
        return self.side_votes.winner()  # type: ignore[return-value]

    def voted_label(self) -> tuple[str, int, float]:
        """The label (and class id) with the largest vote, ties to the earlier one, and its share of the votes."""
        choice, share = self.label_votes.leader()
        if choice is None:  # never: a track starts from a detection, which votes
            return self.label, self.class_id, 1.0
        label, class_id = choice  # type: ignore[misc]
        return label, class_id, share  # type: ignore[return-value]

    def reported_keypoints(self) -> tuple[Any, BoxSource | None]:
        """Keypoints to report on this frame: as observed, or moved with the box since (``v`` kept)."""
        if self.keypoints is None or self.keypoints_box is None:
            return None, None
        if self.keypoints_age == 0:
            return self.keypoints.tolist(), BoxSource.OBSERVED
        ox1, oy1, ox2, oy2 = self.keypoints_box
        nx1, ny1, nx2, ny2 = self.kf.box
        # Scale about the box centre by the size ratio per axis, then translate centre to centre.
        sx = (nx2 - nx1) / (ox2 - ox1) if ox2 > ox1 else 1.0
        sy = (ny2 - ny1) / (oy2 - oy1) if oy2 > oy1 else 1.0
        moved = np.array(self.keypoints, dtype=np.float64)
        moved[:, 0] = (nx1 + nx2) / 2 + (moved[:, 0] - (ox1 + ox2) / 2) * sx
        moved[:, 1] = (ny1 + ny2) / 2 + (moved[:, 1] - (oy1 + oy2) / 2) * sy
        return moved.tolist(), BoxSource.PREDICTED


@dataclass
class _ReplayIds:
    """Id bookkeeping of one replay (see `SortTracker._claim`)."""

    drawn: set[int] = field(default_factory=set)  # fresh ids drawn during the replay
    provisional: set[int] = field(default_factory=set)  # drawn ids that may still give way to an old one
    adopted: set[int] = field(default_factory=set)  # old ids taken back, each at most once
    owner: dict[tuple[int, int], int] = field(default_factory=dict)  # the replay's own detection owners


@dataclass
class _FrameRecord:
    """History entry for one frame: the state before it, and every detector result for it."""

    before: tuple[_LiveTrack, ...]
    detections: Detections | None  # None: the detector did not run on this frame


_SORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "min_hits": {
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
            "default": 2,
            "description": "matched detections (the first included) before a track is confirmed and reported",
        },
        "max_age_frames": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10000,
            "default": 30,
            "description": "frames without a matched detection after which a track is removed",
        },
        "min_iou": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1,
            "default": 0.2,
            "description": "IoU gate between a predicted track box and a detection",
        },
        "high_score": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.5,
            "description": "detections at or above this score are matched first and may start tracks",
        },
        "low_score": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.1,
            "description": "detections in [low_score, high_score) only extend existing tracks; lower ones are ignored",
        },
        "class_aware": {
            "type": "boolean",
            "default": False,
            "description": "only match detections with the track's label (for tracking several object classes)",
        },
        "label_vote": {
            "type": "boolean",
            "default": False,
            "description": "report a track's label as the score-weighted vote over its matched detections' labels, "
            "with label_share (the winner's share); with class_aware false, one track per object whatever its "
            "per-frame label (for objects)",
        },
        "max_latency_frames": {
            "type": "integer",
            "minimum": 0,
            "maximum": 1000,
            "default": 30,
            "description": "how many frames late a detector result may arrive and still be applied (rollback depth)",
        },
        "report_lost": {
            "type": "boolean",
            "default": True,
            "description": "also report lost (unmatched, not yet removed) tracks, with state 'lost'",
        },
        "measurement_noise": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 10,
            "default": 0.05,
            "description": "std of a detected box coordinate, as a fraction of the box size sqrt(w*h)",
        },
        "acceleration_noise": {
            "type": "number",
            "minimum": 0,
            "maximum": 10,
            "default": 0.02,
            "description": "std of the per-frame velocity change, as a fraction of the box size per frame",
        },
        "side_margin": {
            "type": "number",
            "minimum": 0,
            "maximum": 1000,
            "default": 1.0,
            "description": "lead (in summed side scores) the voted side of a track needs before the track refuses "
            "detections of the other side; until then both sides match and vote",
        },
        "duplicate_overlap": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0,
            "description": "an unmatched detection starts no track when it and a confirmed or lost track's box overlap "
            "by at least this share of the smaller box (a second box on an object already tracked, e.g. the object "
            "with the hand on it); 0: off",
        },
        "lost_velocity_decay": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 1.0,
            "description": "a lost track's velocity is multiplied by this on each frame before its prediction: "
            "1 coasts at constant velocity, 0.5 drifts at most about one more frame's motion, 0 stops",
        },
    },
}


class SortTracker(Tracker):
    """Kalman + IoU multi-object tracker for hands (and, with ``label_vote``, objects).

    Parameters are described in `params_schema` (ranges included) and checked on construction
    (`ValueError`). Counters: ``late_applied`` (late results applied by rollback) and
    ``late_dropped`` (late results older than ``max_latency_frames``, or than the run).

    Example:
        >>> from detectors import Detections
        >>> tracker = SortTracker(min_hits=2)
        >>> def hand(x):
        ...     return Detections.from_lists([[x, 100, x + 80, 180]], [0.9], [0], ["hand"])
        >>> tracker.update(0, [(0, hand(100))])          # tentative: nothing reported yet
        ()
        >>> t, = tracker.update(1, [(1, hand(104))])
        >>> t.track_id, str(t.state), str(t.box_source), t.box
        (1, 'confirmed', 'observed', (104.0, 100.0, 184.0, 180.0))
        >>> t, = tracker.update(2)                       # detector did not run: predicted box
        >>> str(t.box_source), t.frames_since_observed, t.box
        ('predicted', 1, (108.0, 100.0, 188.0, 180.0))
    """

    params_schema: ClassVar[dict[str, Any]] = _SORT_SCHEMA

    def __init__(
        self,
        *,
        min_hits: int = 2,
        max_age_frames: int = 30,
        min_iou: float = 0.2,
        high_score: float = 0.5,
        low_score: float = 0.1,
        class_aware: bool = False,
        label_vote: bool = False,
        max_latency_frames: int = 30,
        report_lost: bool = True,
        measurement_noise: float = 0.05,
        acceleration_noise: float = 0.02,
        lost_velocity_decay: float = 1.0,
        side_margin: float = 1.0,
        duplicate_overlap: float = 0.0,
    ) -> None:
        params = dict(
            min_hits=min_hits,
            max_age_frames=max_age_frames,
            min_iou=min_iou,
            high_score=high_score,
            low_score=low_score,
            class_aware=class_aware,
            label_vote=label_vote,
            max_latency_frames=max_latency_frames,
            report_lost=report_lost,
            measurement_noise=measurement_noise,
            acceleration_noise=acceleration_noise,
            lost_velocity_decay=lost_velocity_decay,
            side_margin=side_margin,
            duplicate_overlap=duplicate_overlap,
        )
        check_params("sort tracker", self.params_schema, params)
        if low_score > high_score:
            raise TrackerUsageError(f"sort tracker: low_score ({low_score}) must not exceed high_score ({high_score})")
        self.min_hits = min_hits
        self.max_age_frames = max_age_frames
        self.min_iou = float(min_iou)
        self.high_score = float(high_score)
        self.low_score = float(low_score)
        self.class_aware = class_aware
        self.label_vote = label_vote
        self.max_latency_frames = max_latency_frames
        self.report_lost = report_lost
        self.measurement_noise = float(measurement_noise)
        self.acceleration_noise = float(acceleration_noise)
        self.lost_velocity_decay = float(lost_velocity_decay)
        self.side_margin = float(side_margin)
        self.duplicate_overlap = float(duplicate_overlap)
        self.reset()

    def reset(self) -> None:
        """Forget all tracks, history and counters; ids start at 1 again."""
        self._tracks: list[_LiveTrack] = []
        self._history: dict[int, _FrameRecord] = {}  # insertion order == frame order
        # (frame, detection index) -> id of the track that took that detection in the latest timeline.
        # Outside the snapshots on purpose: it is how a replay recognises the tracks it re-creates.
        self._owner: dict[tuple[int, int], int] = {}
        self._next_id = 1
        self._replay: _ReplayIds | None = None
        self._last_frame: int | None = None
        self.late_dropped = 0
        self.late_applied = 0

    # ------------------------------------------------------------------ public step
    def update(self, frame_index: int, observations: Sequence[Observation] = ()) -> tuple[Track, ...]:
        """Advance to ``frame_index``, applying ``observations``; return the tracks to report.

        ``observations`` are ``(frame computed on, Detections)``; a late one (frame < frame_index)
        is applied at its own frame by rolling back and replaying, or dropped (``late_dropped``)
        if older than ``max_latency_frames``. Frames skipped between two calls are predicted.
        """
        checked = check_observations(frame_index, observations)
        if self._last_frame is not None and frame_index <= self._last_frame:
            raise TrackerUsageError(f"frame_index must increase: got {frame_index} after {self._last_frame}")
        self._prune_history(frame_index)

        current: list[Detections] = []
        rollback_to: int | None = None
        for frame, dets in checked:
            if frame == frame_index:
                current.append(dets)
                continue
            record = self._history.get(frame)
            if record is None:  # older than the history, or before the first frame of the run
                self.late_dropped += 1
                continue
            record.detections = dets if record.detections is None else Detections.concat([record.detections, dets])
            self.late_applied += 1
            rollback_to = frame if rollback_to is None else min(rollback_to, frame)

        if rollback_to is not None:
            assert self._last_frame is not None  # a history entry exists, so a frame was processed
            self._replay_from(rollback_to, self._last_frame)

        start = frame_index if self._last_frame is None else self._last_frame + 1
        if not self._tracks:
            # Nothing to predict: skip straight to the frames a late result could still land on.
            start = max(start, frame_index - self.max_latency_frames)
        for frame in range(start, frame_index + 1):
            dets = Detections.concat(current) if frame == frame_index and current else None
            self._history[frame] = _FrameRecord(self._snapshot(), dets)
            self._step(frame, dets)
        self._last_frame = frame_index
        return self._report()

    # ------------------------------------------------------------------ internals
    def _replay_from(self, first: int, last: int) -> None:
        """Restore the state before ``first`` and re-run frames ``first..last`` with their results."""
        self._restore(self._history[first].before)
        self._replay = _ReplayIds()
        try:
            for frame in range(first, last + 1):
                record = self._history[frame]
                record.before = self._snapshot()
                self._step(frame, record.detections)
        finally:
            replay, self._replay = self._replay, None
        # The replayed frames' detections now belong to the replay's tracks, and only to them.
        for key in [k for k in self._owner if first <= k[0] <= last]:
            del self._owner[key]
        self._owner.update(replay.owner)
        # Give back fresh ids the replay drew but ended up not using (never reported, never owned),
        # so later tracks get the ids they would have had with the late result on time.
        used = {t.track_id for t in self._tracks} | set(self._owner.values())
        while self._next_id - 1 in replay.drawn and self._next_id - 1 not in used:
            self._next_id -= 1

    def _step(self, frame: int, dets: Detections | None) -> None:
        """One frame: predict every track, then (if the detector ran) associate and update."""
        for track in self._tracks:
            if track.state == LOST and self.lost_velocity_decay != 1.0:
                track.kf.scale_velocity(self.lost_velocity_decay)
            track.kf.predict()
            track.age_frames += 1
            track.frames_since_observed += 1
            track.keypoints_age += 1
        if dets is not None:
            self._associate(frame, dets)
        # Removal by age applies on every frame, with or without a detector run.
        self._tracks = [t for t in self._tracks if t.frames_since_observed <= self.max_age_frames]

    def _associate(self, frame: int, dets: Detections) -> None:
        tracks = self._tracks
        sides = [t.settled_side(self.side_margin) for t in tracks]
        result = associate(
            [t.kf.box for t in tracks],
            dets,
            min_iou=self.min_iou,
            high_score=self.high_score,
            low_score=self.low_score,
            track_labels=[t.label for t in tracks] if self.class_aware else None,
            second_pass=[t.state != TENTATIVE for t in tracks],
            # Only a settled vote bars a match: a track's first, possibly misread, sides do not.
            track_sides=sides,
        )
        live = {t.track_id for t in tracks}
        for t_index, d_index in result.matches:
            track = tracks[t_index]
            self._claim(track, (frame, d_index), live)
            track.kf.update(dets.boxes[d_index])
            track.observe_extras(dets, d_index, self.label_vote)
            track.score = float(dets.scores[d_index])
            track.label = dets.labels[d_index]
            track.class_id = int(dets.class_ids[d_index])
            track.hits += 1
            track.frames_since_observed = 0
            if track.state == LOST or (track.state == TENTATIVE and track.hits >= self.min_hits):
                track.state = CONFIRMED
        removed: set[int] = set()
        for t_index in result.unmatched_tracks:
            track = tracks[t_index]
            if track.state == TENTATIVE:  # not seen twice in a row: most likely a false detection
                removed.add(t_index)
            else:
                track.state = LOST
        kept = [t for i, t in enumerate(tracks) if i not in removed]
        for d_index in self._may_start(result.unmatched_detections, dets, tracks, sides):
            track = self._start_track(d_index, dets)
            self._claim(track, (frame, d_index), live)
            live.add(track.track_id)
            kept.append(track)
        self._tracks = kept

    def _may_start(
        self, candidates: Sequence[int], dets: Detections, tracks: Sequence[_LiveTrack], sides: Sequence[str | None]
    ) -> list[int]:
        """The unmatched detections that may start tracks: not those barred by a track's settled side or box.

        A detection that overlaps (IoU >= ``min_iou``) a track whose settled side is the opposite of
        the detection's is that track's hand with its side misread, far more often than a new hand.
        With ``duplicate_overlap``, a detection that overlaps a confirmed or lost track by that share
        of the smaller box is a second box on that object (the object and the hand on it, or one half
        of it), not a new object.
        """
        if candidates and self.duplicate_overlap > 0:
            candidates = [d for d in candidates if not self._duplicate(dets.boxes[d], tracks)]
        barred_sides = [side for side in sides if side is not None]
        if not candidates or not barred_sides or not dets.has_sides:
            return list(candidates)
        iou = iou_matrix([t.kf.box for t in tracks], dets.boxes[list(candidates)])
        keep = []
        for column, d_index in enumerate(candidates):
            side = dets.sides[d_index]
            barred = side is not None and any(
                sides[t] is not None and sides[t] != side and iou[t, column] >= self.min_iou for t in range(len(tracks))
            )
            if not barred:
                keep.append(d_index)
        return keep

    def _duplicate(self, box: Any, tracks: Sequence[_LiveTrack]) -> bool:
        """Whether ``box`` overlaps a confirmed or lost track by ``duplicate_overlap`` of the smaller box."""
        x1, y1, x2, y2 = (float(v) for v in box)
        area = max(0.0, x2 - x1) * max(0.0, y2 - y1)
        for track in tracks:
            if track.state == TENTATIVE:
                continue
            tx1, ty1, tx2, ty2 = track.kf.box
            inter = max(0.0, min(x2, tx2) - max(x1, tx1)) * max(0.0, min(y2, ty2) - max(y1, ty1))
            smaller = min(area, max(0.0, tx2 - tx1) * max(0.0, ty2 - ty1))
            if smaller > 0 and inter >= self.duplicate_overlap * smaller:
                return True
        return False

    def _claim(self, track: _LiveTrack, key: tuple[int, int], live: set[int]) -> None:
        """Record that ``track`` took detection ``key``; during a replay, settle the track's id.

        A track started during a replay has a provisional id (0 at birth). When one of its detections
        belonged to a track of the timeline being replaced, and that id is free, it takes that id:
        the same detections, the same id as already reported. Otherwise its first detection draws
        a fresh id.
        """
        replay = self._replay
        if replay is not None and (track.track_id == 0 or track.track_id in replay.provisional):
            before = self._owner.get(key)
            if before is not None and before != track.track_id and before not in live and before not in replay.adopted:
                if track.track_id:
                    replay.provisional.discard(track.track_id)
                    live.discard(track.track_id)
                    for owned, owner in replay.owner.items():
                        if owner == track.track_id:
                            replay.owner[owned] = before
                track.track_id = before
                replay.adopted.add(before)
                live.add(before)
        if track.track_id == 0:
            track.track_id = self._next_id
            self._next_id += 1
            if replay is not None:
                replay.drawn.add(track.track_id)
                replay.provisional.add(track.track_id)
        (self._owner if replay is None else replay.owner)[key] = track.track_id

    def _start_track(self, d_index: int, dets: Detections) -> _LiveTrack:
        kf = BoxKalmanFilter(
            dets.boxes[d_index], measurement_noise=self.measurement_noise, acceleration_noise=self.acceleration_noise
        )
        track = _LiveTrack(
            track_id=0,  # set by _claim
            kf=kf,
            score=float(dets.scores[d_index]),
            label=dets.labels[d_index],
            class_id=int(dets.class_ids[d_index]),
            state=CONFIRMED if self.min_hits <= 1 else TENTATIVE,
            hits=1,
            age_frames=0,
            frames_since_observed=0,
        )
        track.observe_extras(dets, d_index, self.label_vote)
        return track

    def _snapshot(self) -> tuple[_LiveTrack, ...]:
        return tuple(dataclasses.replace(t, kf=t.kf.snapshot()) for t in self._tracks)

    def _restore(self, memos: tuple[_LiveTrack, ...]) -> None:
        noise = {"measurement_noise": self.measurement_noise, "acceleration_noise": self.acceleration_noise}
        self._tracks = [dataclasses.replace(m, kf=BoxKalmanFilter.restore(m.kf, **noise)) for m in memos]

    def _prune_history(self, frame_index: int) -> None:
        # A result for frame j can be applied at frame_index only if frame_index - j <= max_latency_frames.
        oldest = frame_index - self.max_latency_frames
        for frame in [f for f in self._history if f < oldest]:
            del self._history[frame]
        for key in [k for k in self._owner if k[0] < oldest]:
            del self._owner[key]

    def _report(self) -> tuple[Track, ...]:
        reported = []
        for t in self._tracks:
            if t.state == TENTATIVE or (t.state == LOST and not self.report_lost):
                continue
            side, side_score = t.voted_side()
            label, class_id, label_share = t.voted_label() if self.label_vote else (t.label, t.class_id, None)
            keypoints, keypoints_source = t.reported_keypoints()
            reported.append(
                Track(
                    track_id=t.track_id,
                    box=t.kf.box,
                    score=t.score,
                    label=label,
                    class_id=class_id,
                    label_share=label_share,
                    state=t.state,
                    box_source=BoxSource.OBSERVED if t.frames_since_observed == 0 else BoxSource.PREDICTED,
                    frames_since_observed=t.frames_since_observed,
                    hits=t.hits,
                    age_frames=t.age_frames,
                    side=side,
                    side_score=side_score,
                    keypoints=keypoints,
                    keypoint_names=t.keypoint_names if keypoints is not None else (),
                    keypoints_source=keypoints_source,
                )
            )
        reported.sort(key=lambda track: track.track_id)
        return tuple(reported)
