"""`RelationEngine`: follows hand-object relations over time and emits start/update/end records.

Called once per processed frame, in frame order, with the hand tracks and the object tracks of
that frame. Each relation of the spec is evaluated for every (hand, object) pair; a pair is
keyed by ``(relation name, hand track id, object track id)``. Rules, per key:

* **start**: the predicate has held on ``enter_frames`` consecutive processed frames (or for
  ``enter_seconds`` of source time, counting each frame as one frame period, so
  ``enter_seconds = n / fps`` behaves as ``enter_frames = n``). The ``relation.start`` record is
  dated at the onset (the first of those frames) and says on which frame it was confirmed.
* **end, released**: the predicate has failed on ``exit_frames`` consecutive frames (or for
  ``exit_seconds``). A failure shorter than that does not split the relation. The
  ``relation.end`` record is dated at the last frame the predicate held.
* **end, hand_lost / object_lost**: the hand or the object track is no longer reported: the
  relation ends at once (``hand_lost`` when both went). Tracks with predicted boxes (``lost``
  state, still reported) are used as they are.
* **one object per hand** (``max_per_hand: k``): at most ``k`` of the relation active per hand
  at once; when more pairs are ready to start on a frame, the ones with the best mean score
  over their candidate frames start (the lower object id breaks a tie) and the others start
  counting their ``enter`` frames afresh, so a later start is dated after the limit had room.
* **carried objects** (``max_carried_frames: n`` on a relation): an active relation whose object
  track is no longer reported, or is reported ``lost`` (an object-detector run missed it), while
  its hand is still there does not end: the object is taken to be in the hand. Its box moves
  with the hand (the last seen box, shifted by the hand box centre's displacement since), the
  predicate is not evaluated, and the scene shows the object as a predicted track (a lost track
  the tracker still reports is shown as the tracker has it). A new object track (seen on this
  frame, not a lost one: its box is the tracker's guess) that overlaps the carried box (IoU ≥ 0.1,
  or the carried box covering a quarter of it) takes the relation over, same ``relation_id`` (the
  end record names the last object id); the old track coming back continues it too. Carried frames
  count as frames of the relation (its duration), not in its scores, and the end record says how
  many there were (``carried_frames``). After ``n`` carried frames in a row without the object,
  the relation ends ``object_lost``, dated at its last carried frame (a lost track still reported
  is judged by the predicate again instead). Given the frame size (``update(..., frame_size=)``,
  as the application does), the carried box is clipped to the frame, and an object whose
  carried box would lie wholly outside it (carried out of view) is not carried: as if its
  carried frames had run out.
  A new object track away from the carried box, with the carried object's label and about its
  size (box diagonal within a factor 1.5), is the object put down elsewhere: the relation ends
  ``released`` on that frame, dated at its last carried frame.
* **successor tracks** (``grace_frames: n`` on a relation): an active relation whose hand track
  is no longer reported while its object still is, or whose object track is gone (and not
  carried) while its hand is still there, waits up to ``n`` frames for a successor: a hand track
  of the same known side (a hand tracker that split one hand into two ids; the nearest such hand
  to where the hand was, within 1.5 hand box diagonals), or an object track seen on this frame
  (not lost) that overlaps the
  object's last seen box as for a carried box (a detector label flip that a tracker answered
  with a new id). The successor continues the relation, same ``relation_id``; later records name
  the new hand or object id. The original track coming back continues it as well. While waiting,
  the relation is not in `RelationEngine.active` and its frames are not held frames. With no
  successor by the frame after the ``n``-th missing one, it ends ``hand_lost`` /
  ``object_lost``, dated at its last held frame (so such an end record comes up to ``n`` frames
  later than without a grace); at the end of the stream a waiting relation ends with that reason
  too. A hand and object both gone on one frame end it at once, and a carried object that ran
  out of frames gets no grace.
* **end, end_of_stream**: `RelationEngine.finish`.

Object boxes that are the hand itself (``objects.not_hand``) are left out before anything else:
for a pair with such a box the predicate counts as failing, not as a lost object, because the
test is per frame and noisy while the track itself is still there. An object whose label the
relation does not apply to (``objects: [cup]``) likewise counts as failing, and so does one
below the relation's ``min_object_score`` (its track's score) or ``min_object_size`` (its box
diagonal over the hand box's).

What a predicate sees: the two boxes and a `PairContext` built from the two tracks: the hand
track's keypoints (observed or predicted) and, when some predicate looks at motion
(``moves_with``), the box centres of both tracks on the last frames. For that the engine keeps,
per hand track and per object track, the centres of the last ``window_frames + 1`` consecutive
processed frames on which it was reported (the longest window of the spec; none when no
predicate needs it); a track missing from a frame starts its history over. A pair's history is
the frames both tracks share, so a pair sees motion only once both have been reported
``window_frames + 1`` frames in a row.

Each pair is independent: two hands can hold the same object, one hand two objects.

Example:
    >>> from orchestrator.relations.predicates import Overlap
    >>> from orchestrator.relations.spec import ObjectsSpec, RelationSpec, RelationsSpec
    >>> from trackers.track import Track
    >>> spec = RelationsSpec(ObjectsSpec("objects"), (RelationSpec("touching", Overlap(min_iou=0.1), enter_frames=2),))
    >>> engine = RelationEngine(spec, fps=10)
    >>> hand, cup = Track(1, (0, 0, 10, 10), 0.9, "hand", 0), Track(7, (5, 0, 15, 10), 0.8, "cup", 41)
    >>> engine.update(0, 0.0, [hand], [cup])
    []
    >>> [(r.type, r.frame, r.relation_id) for r in engine.update(1, 0.1, [hand], [cup])]
    [('relation.start', 0, 1)]
    >>> [(r.name, r.hand_id, r.object_track.label) for r in engine.active()]
    [('touching', 1, 'cup')]
    >>> [(r.type, r.frame, r.reason, r.duration_frames) for r in engine.finish(1, 0.1)]
    [('relation.end', 1, 'end_of_stream', 2)]
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from detectors.geometry import Box, center, covered_share, diagonal, iou
from orchestrator.events import Record, RelationEndRecord, RelationStartRecord, RelationUpdateRecord
from orchestrator.frame_bounds import track_in_frame
from orchestrator.relations.predicates import PairContext, history_frames
from orchestrator.relations.spec import NotHandSpec, RelationSpec, RelationsSpec
from orchestrator.scene import ActiveRelation
from trackers.track import BoxSource, Track, TrackState

#: Source times are compared with this slack: they come rounded from containers and are
#: written rounded to 1e-6 s, so 0.1 s of 30 fps frames must count as 0.1 s.
_TIME_EPS = 1e-6

_Key = tuple[int, int, int]  # (relation index in YAML order, hand id, object id)

#: A new object track takes up a carried relation when it overlaps the carried box this much
#: (IoU), or when the carried box covers this share of it (a small object seen inside the hand).
_TAKE_UP_IOU = 0.1
_TAKE_UP_COVERED = 0.25
#: A lost hand's successor lies within this many of its hand box diagonals of where it was last
#: seen (a hand of the same side across the table is another person's).
_SUCCESSOR_REACH = 1.5
#: A new track with a carried object's label, away from the hand, is that object put down when
#: its box diagonal is within this factor of the object's last seen one.
_SAME_SIZE = 1.5


@dataclass
class _PairState:
    """What the engine remembers about one key: a candidate run of held frames, or an active relation."""

    onset_frame: int
    onset_time: float
    onset_score: float
    onset_hand_box: Box
    onset_object_box: Box
    object_label: str
    held_frames: int = 1  # consecutive held frames while a candidate
    score_sum: float = 0.0
    score_max: float = 0.0
    score_count: int = 0
    last_held_frame: int = 0
    last_held_time: float = 0.0
    relation_id: int = 0  # 0 while a candidate
    fail_frames: int = 0
    fail_start_time: float = 0.0
    last_update_frame: int = 0
    # For carrying (``max_carried_frames``): the object track and the hand box centre when the
    # object was last seen, and how many frames it has been carried since.
    object_track: Track | None = None
    hand_centre: tuple[float, float] = (0.0, 0.0)
    carried_frames: int = 0  # in a row, now
    carried_total: int = 0  # over the relation, for the end record
    # For the grace period (``grace_frames``): the hand track when last seen (its side and box)
    # and how many frames the relation has waited for a lost track's successor.
    hand_track: Track | None = None
    waiting_frames: int = 0

    @property
    def active(self) -> bool:
        return self.relation_id > 0

    def held(self, frame_index: int, time_s: float, score: float) -> None:
        self.score_sum += score
        self.score_max = max(self.score_max, score)
        self.score_count += 1
        self.last_held_frame, self.last_held_time = frame_index, time_s


def is_hand_like(obj: Track, hands: Sequence[Track], rule: NotHandSpec) -> bool:
    """Whether an object box is one of the hands (COCO detects hands and arms as ``person``).

    True when its label is one of ``rule.labels`` (any label when that is ``None``) and some hand box covers at least
    ``rule.min_hand_overlap`` of its area. (An IoU of at least that much implies the same, since
    the union is never smaller than the object box: the "or IoU" of the grammar needs no test.)

    Example:
        >>> hand = Track(1, (0, 0, 10, 10), 0.9, "hand", 0)
        >>> is_hand_like(Track(2, (1, 1, 9, 9), 0.5, "person", 0), [hand], NotHandSpec())
        True
        >>> is_hand_like(Track(3, (1, 1, 9, 9), 0.5, "cup", 41), [hand], NotHandSpec())
        False
        >>> is_hand_like(Track(3, (1, 1, 9, 9), 0.1, "bottle", 39), [hand], NotHandSpec(labels=None))
        True
    """
    if not rule.may_be_hand(obj.label):
        return False
    limit = rule.min_hand_overlap
    return any(covered_share(h.box, obj.box) >= limit for h in hands)


def _by_id(tracks: Sequence[Track], what: str) -> dict[int, Track]:
    out: dict[int, Track] = {}
    for track in tracks:
        if track.track_id in out:
            raise ValueError(f"{what} track id {track.track_id} is given twice on one frame")
        out[track.track_id] = track
    return dict(sorted(out.items()))  # id order: the order pairs are visited and records sorted


class RelationEngine:
    """Follows the relations of ``spec`` over a stream of frames; see the module docstring for the rules.

    Args:
        spec: the parsed ``relations:`` section.
        fps: the source's frame rate; one frame stands for ``1 / fps`` seconds in the
            ``*_seconds`` rules and in ``duration_s``.

    Records come back in a deterministic order: ends, then starts, then updates, each sorted by
    the relation's position in the YAML, then hand id, then object id. ``relation_id`` counts
    the relations of this engine from 1, in that order of starts.
    """

    def __init__(self, spec: RelationsSpec, fps: float) -> None:
        if isinstance(fps, bool) or not isinstance(fps, int | float) or not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a finite number > 0, got {fps!r}")
        self.spec = spec
        self.fps = float(fps)
        self._period = 1.0 / self.fps
        self.reset()

    def reset(self) -> None:
        """Forget every relation: the next `update` starts a new stream (relation ids from 1 again)."""
        self._pairs: dict[_Key, _PairState] = {}
        self._next_id = 1
        self._last_frame: int | None = None
        self._last_time = -math.inf
        self._finished = False
        # The last frame's tracks by id, for `active`.
        self._hands: dict[int, Track] = {}
        self._objects: dict[int, Track] = {}
        # Carried objects of the last frame, by key (see `carried_objects`).
        self._carried: dict[_Key, Track] = {}
        # The frame size of the last `update`, which carried boxes stay inside (None: unbounded).
        self._frame_size: tuple[int, int] | None = None
        # Relations waiting for a lost track's successor on the last frame, by key: the reason they
        # end with if none comes (``hand_lost`` / ``object_lost``).
        self._waiting: dict[_Key, str] = {}
        # Box centres of each reported track on its last frames, for predicates that look at motion.
        self._history_len = max((history_frames(r.when) for r in self.spec.relations), default=0)
        self._hand_centres: dict[int, deque[tuple[float, float]]] = {}
        self._object_centres: dict[int, deque[tuple[float, float]]] = {}

    @property
    def active_count(self) -> int:
        """Relations started and not yet ended."""
        return sum(1 for state in self._pairs.values() if state.active)

    def active(self) -> tuple[ActiveRelation, ...]:
        """The relations active after the last `update`, with that frame's hand and object tracks.

        In record order: the relation's position in the YAML, then hand id, then object id.
        Every active pair's tracks are on the last frame (a pair whose track went is ended at once).
        Empty after `finish` or `reset`.
        """
        return tuple(
            ActiveRelation(
                self.spec.relations[index].name,
                self._hands[hand_id],
                self._carried.get((index, hand_id, object_id)) or self._objects[object_id],
            )
            for (index, hand_id, object_id), state in sorted(self._pairs.items())
            if state.active and (index, hand_id, object_id) not in self._waiting
        )

    def carried_objects(self) -> tuple[Track, ...]:
        """Objects carried on the last frame (see the module doc): predicted tracks moved with their hand.

        One per object id, by id, and only those the tracker no longer reported (a lost track it
        still reports is in the scene already; `active` gives its carried box).
        """
        by_id: dict[int, Track] = {}
        for key in sorted(self._carried):
            if key[2] not in self._objects:
                by_id.setdefault(key[2], self._carried[key])
        return tuple(by_id[i] for i in sorted(by_id))

    # ------------------------------------------------------------------ the per-frame step
    def update(
        self,
        frame_index: int,
        time_s: float,
        hands: Sequence[Track],
        objects: Sequence[Track],
        frame_size: tuple[int, int] | None = None,
    ) -> list[Record]:
        """Advance to ``frame_index`` with this frame's hand and object tracks; returns the records it decided.

        ``frame_size`` is ``(width, height)`` in pixels: carried boxes are kept inside it (see the
        module doc); None leaves them unbounded. Raises `ValueError` for a frame not after the
        previous one, a time going backwards, or a track id given twice; `RuntimeError` after
        `finish` (call `reset` to start over).
        """
        self._check_step(frame_index, time_s, strict=True)
        hands_by_id = _by_id(hands, "hand")
        objects_by_id = _by_id(objects, "object")
        # Plain numbers in records (numpy ints do not serialise); the step counts once the inputs are known good.
        frame_index, time_s = int(frame_index), float(time_s)
        self._last_frame, self._last_time = frame_index, time_s
        self._hands, self._objects = hands_by_id, objects_by_id
        self._frame_size = frame_size
        if self._history_len:
            self._remember_centres(self._hand_centres, hands_by_id)
            self._remember_centres(self._object_centres, objects_by_id)
        rule = self.spec.objects.not_hand
        hand_like = {oid for oid, o in objects_by_id.items() if is_hand_like(o, hands, rule)} if rule.active else set()

        ends: list[tuple[_Key, Record]] = []
        starts: list[_Key] = []
        updates: list[tuple[_Key, Record]] = []

        # Lost tracks first: such a relation ends at once, whatever its predicate did, unless its
        # object is carried by a hand that is still there, or it may wait for a successor track.
        self._carried, self._waiting = {}, {}
        for key in [k for k in self._pairs if k[1] not in hands_by_id or k[2] not in objects_by_id]:
            state = self._pairs[key]
            relation = self.spec.relations[key[0]]
            hand_here, object_here = key[1] in hands_by_id, key[2] in objects_by_id
            reason = "hand_lost" if not hand_here else "object_lost"
            carriable = state.active and hand_here and state.object_track is not None
            under_bound = carriable and state.carried_frames < relation.max_carried_frames
            if under_bound and self._carry(key, state, hands_by_id):
                continue
            # One of the two tracks may have been replaced by a successor (a carried object that ran
            # out of frames is gone, though): wait, unless the grace is over (decided after the take-up).
            if state.active and state.carried_frames == 0 and (hand_here or object_here) and relation.grace_frames:
                state.waiting_frames += 1
                self._waiting[key] = reason
                continue
            del self._pairs[key]
            if state.active:
                ends.append((key, self._end(key, state, reason, frame_index, time_s)))
        # A new object track where a carried box is takes the relation over (seen: not carried);
        # the others are carried on this frame. Likewise a successor takes over a waiting relation;
        # one that has now waited more than its grace without a successor ends.
        # An object track still reported but lost (a detector run missed it: it is in the hand) is
        # carried as well, rather than judged by the tracker's stale predicted box.
        for key, state in self._pairs.items():
            obj = objects_by_id.get(key[2])
            if (
                state.active
                and obj is not None
                and obj.state is TrackState.LOST
                and key[1] in hands_by_id
                and state.object_track is not None
                and state.carried_frames < self.spec.relations[key[0]].max_carried_frames
            ):
                self._carry(key, state, hands_by_id)
        self._take_up_carried(objects_by_id, hand_like)
        for key in self._seen_elsewhere(objects_by_id, hand_like):
            state = self._pairs.pop(key)
            del self._carried[key]
            ends.append((key, self._end(key, state, "released", frame_index, time_s)))
        self._take_up_waiting(hands_by_id, objects_by_id, hand_like)
        for key, reason in sorted(self._waiting.items()):
            state = self._pairs[key]
            if state.waiting_frames > self.spec.relations[key[0]].grace_frames:
                del self._pairs[key], self._waiting[key]
                ends.append((key, self._end(key, state, reason, frame_index, time_s)))
        for key in self._carried:
            state = self._pairs[key]
            state.carried_frames += 1
            state.carried_total += 1
            state.fail_frames = 0  # the object is in the hand: not a failure of the predicate
            state.last_held_frame, state.last_held_time = frame_index, time_s

        for index, relation in enumerate(self.spec.relations):
            for hand_id, hand in hands_by_id.items():
                for object_id, obj in objects_by_id.items():
                    key = (index, hand_id, object_id)
                    # A box taken for the hand, or a label the relation is not about, fails the predicate.
                    eligible = (
                        object_id not in hand_like
                        and relation.applies_to(obj.label)
                        and relation.admits(hand.box, obj.box, obj.score)
                    )
                    holds, score = (
                        relation.when.evaluate(hand.box, obj.box, self._context(hand, obj))
                        if eligible
                        else (False, 0.0)
                    )
                    state = self._pairs.get(key)
                    if state is None or not state.active:
                        if self._advance_candidate(key, relation, state, holds, score, hand, obj, frame_index, time_s):
                            starts.append(key)
                        continue
                    state.hand_track, state.waiting_frames = hand, 0
                    if key in self._carried:  # a lost object track in the hand: carried, not judged
                        continue
                    state.object_label = obj.label
                    if obj.state is not TrackState.LOST:  # a carried object's bound runs until it is seen
                        state.object_track, state.hand_centre, state.carried_frames = obj, center(hand.box), 0
                    if self._advance_active(relation, state, holds, score, frame_index, time_s):
                        del self._pairs[key]
                        ends.append((key, self._end(key, state, "released", frame_index, time_s)))
                    elif relation.update_every_frames and (
                        frame_index - state.last_update_frame >= relation.update_every_frames
                    ):
                        state.last_update_frame = frame_index
                        record = self._update_record(key, relation, state, frame_index, time_s, hand, obj, holds, score)
                        updates.append((key, record))

        starts = self._within_limits(starts)
        # relation_id follows the order of starts, so ids are given only after sorting.
        started = [self._start(key, self._pairs[key], frame_index, time_s) for key in sorted(starts)]
        ends.sort(key=lambda item: item[0])
        updates.sort(key=lambda item: item[0])
        return [record for _, record in ends] + started + [record for _, record in updates]

    def _advance_candidate(
        self,
        key: _Key,
        relation: RelationSpec,
        state: _PairState | None,
        holds: bool,
        score: float,
        hand: Track,
        obj: Track,
        frame_index: int,
        time_s: float,
    ) -> bool:
        """One frame of a pair not yet related; True when it has now held long enough to start."""
        if not holds:
            # The run of held frames is broken: start over (and keep no state for pairs that do
            # not hold, so memory stays bounded by the pairs that currently hold).
            self._pairs.pop(key, None)
            return False
        if state is None:
            state = self._pairs[key] = _PairState(frame_index, time_s, score, hand.box, obj.box, obj.label)
        else:
            state.held_frames += 1
        state.object_track, state.hand_centre, state.hand_track = obj, center(hand.box), hand
        state.held(frame_index, time_s, score)
        return self._long_enough(
            relation.enter_frames, relation.enter_seconds, state.held_frames, state.onset_time, time_s
        )

    def _advance_active(
        self, relation: RelationSpec, state: _PairState, holds: bool, score: float, frame_index: int, time_s: float
    ) -> bool:
        """One frame of an active relation; True when it has now failed long enough to end."""
        if holds:
            state.fail_frames = 0  # a failure shorter than the exit window leaves no trace
            state.held(frame_index, time_s, score)
            return False
        if state.fail_frames == 0:
            state.fail_start_time = time_s
        state.fail_frames += 1
        return self._long_enough(
            relation.exit_frames, relation.exit_seconds, state.fail_frames, state.fail_start_time, time_s
        )

    def finish(self, frame_index: int, time_s: float) -> list[Record]:
        """End every active relation with reason ``end_of_stream``; candidates are dropped.

        ``frame_index``/``time_s``: the last processed frame (it may equal the last `update`'s).
        Calling it again returns ``[]``.
        """
        if self._finished:
            return []
        self._check_step(frame_index, time_s, strict=False)
        frame_index, time_s = int(frame_index), float(time_s)
        self._last_frame, self._last_time = frame_index, time_s
        self._finished = True
        # A relation still waiting for a successor track ends for the track it lost.
        ends = [
            self._end(key, state, self._waiting.get(key, "end_of_stream"), frame_index, time_s)
            for key, state in sorted(self._pairs.items())
            if state.active
        ]
        self._pairs.clear()
        self._waiting.clear()
        return ends

    def _within_limits(self, starts: list[_Key]) -> list[_Key]:
        """The starts that ``max_per_hand`` allows: per (relation, hand), the best-scoring ones that fit.

        The others are dropped as candidates: they count their enter frames again from the next frame.
        """
        groups: dict[tuple[int, int], list[_Key]] = {}
        for key in starts:
            groups.setdefault((key[0], key[1]), []).append(key)
        allowed: list[_Key] = []
        for (index, hand_id), keys in groups.items():
            limit = self.spec.relations[index].max_per_hand
            if limit is None:
                allowed += keys
                continue
            active = sum(1 for k, s in self._pairs.items() if k[0] == index and k[1] == hand_id and s.active)
            # Best mean score over the candidate's frames first; the lower object id breaks ties.
            keys.sort(key=lambda k: (-self._pairs[k].score_sum / self._pairs[k].score_count, k[2]))
            room = max(0, limit - active)
            allowed += keys[:room]
            for key in keys[room:]:
                # Held back: it counts its frames afresh, so a later start is dated when it may start,
                # never back to a time when the hand's limit was already taken.
                del self._pairs[key]
        return allowed

    # ------------------------------------------------------------------ carrying
    def _carry(self, key: _Key, state: _PairState, hands: dict[int, Track]) -> bool:
        """Carry ``key``'s object on this frame, unless its carried box lies wholly outside the frame."""
        track: Track | None = self._carried_track(state, hands[key[1]], state.carried_frames + 1)
        if self._frame_size is not None:
            track = track_in_frame(track, self._frame_size)
        if track is None:
            return False
        self._carried[key] = track
        return True

    @staticmethod
    def _carried_track(state: _PairState, hand: Track, carried_frames: int) -> Track:
        """The object of ``state`` moved with ``hand`` since it was last seen, as a predicted track."""
        obj = state.object_track
        assert obj is not None
        (hx, hy), (ax, ay) = center(hand.box), state.hand_centre
        dx, dy = hx - ax, hy - ay
        x1, y1, x2, y2 = obj.box
        return dataclasses.replace(
            obj,
            box=(x1 + dx, y1 + dy, x2 + dx, y2 + dy),
            state=TrackState.LOST,
            box_source=BoxSource.PREDICTED,
            frames_since_observed=obj.frames_since_observed + carried_frames,
            age_frames=obj.age_frames + carried_frames,
        )

    def _take_up_carried(self, objects: dict[int, Track], hand_like: set[int]) -> None:
        """Give each carried relation to a new object track where its carried box is, if there is one."""
        for key in sorted(self._carried):
            index, hand_id, _ = key
            relation = self.spec.relations[index]
            carried = self._carried[key].box
            best, best_iou = None, 0.0
            for object_id, obj in sorted(objects.items()):
                taken = self._pairs.get((index, hand_id, object_id))
                # A lost track's box is the tracker's guess, not a sighting: it takes nothing over.
                if obj.state is TrackState.LOST or object_id in hand_like or not relation.applies_to(obj.label):
                    continue
                if taken and taken.active:
                    continue
                overlap = iou(carried, obj.box)
                if (overlap >= _TAKE_UP_IOU or covered_share(carried, obj.box) >= _TAKE_UP_COVERED) and (
                    best is None or overlap > best_iou
                ):
                    best, best_iou = object_id, overlap
            if best is not None:
                state = self._pairs.pop(key)
                del self._carried[key]
                self._pairs[(index, hand_id, best)] = state  # a candidate of that pair gives way

    def _seen_elsewhere(self, objects: dict[int, Track], hand_like: set[int]) -> list[_Key]:
        """The carried relations whose object has just been seen away from the hand: put down.

        That is a track on its first frame, not where the carried box is (it would have taken the
        relation over), with the carried object's label and a box diagonal within a factor
        `_SAME_SIZE` of its last seen box's.
        """
        put_down = []
        for key in sorted(self._carried):
            state = self._pairs[key]
            last = state.object_track
            if last is None:
                continue
            for object_id, obj in objects.items():
                if (
                    object_id != key[2]
                    and object_id not in hand_like
                    and obj.age_frames == 0
                    and obj.label == state.object_label
                    and 1 / _SAME_SIZE <= diagonal(obj.box) / max(diagonal(last.box), 1e-9) <= _SAME_SIZE
                ):
                    put_down.append(key)
                    break
        return put_down

    def _take_up_waiting(self, hands: dict[int, Track], objects: dict[int, Track], hand_like: set[int]) -> None:
        """Give each waiting relation to a successor track: a hand of the same side, an object where it was.

        A lost hand's successor is a hand track with the same known side (the nearest to where the
        hand was last seen when there are several); a lost object's, an object track that overlaps
        its last seen box as a carried box's does. A track already in an active pair of the same
        relation with the other member does not qualify.
        """
        for key in sorted(self._waiting):
            index, hand_id, object_id = key
            state = self._pairs[key]
            relation = self.spec.relations[index]
            successor: _Key | None = None
            if hand_id not in hands:
                last = state.hand_track
                side = last.side if last is not None else None
                if last is None or side is None:
                    continue
                # The nearest, and no further than a hand's reach from where the hand was last seen.
                (lx, ly), reach, best = center(last.box), _SUCCESSOR_REACH * diagonal(last.box), math.inf
                for new_id, new in hands.items():
                    if new.side != side or not self._free((index, new_id, object_id)):
                        continue
                    nx, ny = center(new.box)
                    distance = math.hypot(nx - lx, ny - ly)
                    if distance <= reach and distance < best:
                        successor, best = (index, new_id, object_id), distance
            elif state.object_track is not None:
                last_box, best_iou = state.object_track.box, -1.0
                for new_id, obj in objects.items():
                    eligible = (
                        obj.state is not TrackState.LOST and new_id not in hand_like and relation.applies_to(obj.label)
                    )
                    if not eligible or not self._free((index, hand_id, new_id)):
                        continue
                    overlap = iou(last_box, obj.box)
                    if (overlap >= _TAKE_UP_IOU or covered_share(last_box, obj.box) >= _TAKE_UP_COVERED) and (
                        overlap > best_iou
                    ):
                        successor, best_iou = (index, hand_id, new_id), overlap
            if successor is not None:
                del self._waiting[key]
                self._pairs[successor] = self._pairs.pop(key)  # a candidate of that pair gives way
                state.waiting_frames = 0

    def _free(self, key: _Key) -> bool:
        """Whether no active relation has this key (a candidate may be there)."""
        state = self._pairs.get(key)
        return state is None or not state.active

    # ------------------------------------------------------------------ helpers
    def _remember_centres(self, history: dict[int, deque[tuple[float, float]]], tracks: dict[int, Track]) -> None:
        """Append each track's box centre; forget tracks not reported on this frame."""
        for track_id in [k for k in history if k not in tracks]:
            del history[track_id]
        for track_id, track in tracks.items():
            centres = history.get(track_id)
            if centres is None:
                centres = history[track_id] = deque(maxlen=self._history_len + 1)
            centres.append(center(track.box))

    def _context(self, hand: Track, obj: Track) -> PairContext:
        """What the predicate may know of this pair beyond the boxes: keypoints, shared recent centres."""
        if not self._history_len:
            return PairContext(hand.keypoints, hand.keypoint_names)
        hand_centres, object_centres = self._hand_centres[hand.track_id], self._object_centres[obj.track_id]
        shared = min(len(hand_centres), len(object_centres))
        return PairContext(
            hand.keypoints,
            hand.keypoint_names,
            tuple(hand_centres)[-shared:],
            tuple(object_centres)[-shared:],
        )

    def _check_step(self, frame_index: int, time_s: float, strict: bool) -> None:
        """Raise unless this step may follow the previous one (the caller records it once all checks pass)."""
        if self._finished:
            raise RuntimeError("the relation engine has finished; call reset() to follow a new stream")
        if isinstance(frame_index, bool) or not isinstance(frame_index, numbers.Integral) or frame_index < 0:
            raise ValueError(f"frame_index must be an integer >= 0, got {frame_index!r}")
        if not math.isfinite(time_s) or time_s < 0:
            raise ValueError(f"time_s must be a finite number >= 0, got {time_s!r}")
        last = self._last_frame
        if last is not None and (frame_index < last or (strict and frame_index == last)):
            raise ValueError(f"frames must come in increasing order: frame {frame_index} after frame {last}")
        if time_s < self._last_time:
            raise ValueError(f"source time went backwards: {time_s} s after {self._last_time} s")

    def _long_enough(self, frames: int | None, seconds: float | None, count: int, since: float, now: float) -> bool:
        """Whether a run of ``count`` frames from time ``since`` to ``now`` meets a frames-or-seconds rule."""
        if frames is not None:
            return count >= frames
        # Each frame stands for one frame period, so n frames at fps last n / fps seconds.
        return now - since + self._period >= float(seconds) - _TIME_EPS  # type: ignore[arg-type]

    def _start(self, key: _Key, state: _PairState, frame_index: int, time_s: float) -> Record:
        state.relation_id = self._next_id
        self._next_id += 1
        state.last_update_frame = frame_index
        return RelationStartRecord(
            frame=state.onset_frame,
            time=state.onset_time,
            relation_id=state.relation_id,
            relation=self.spec.relations[key[0]].name,
            hand_id=key[1],
            object_id=key[2],
            object_label=state.object_label,
            score=state.onset_score,
            hand_box=state.onset_hand_box,
            object_box=state.onset_object_box,
            confirmed_frame=frame_index,
            confirmed_time=time_s,
        )

    def _end(self, key: _Key, state: _PairState, reason: str, frame_index: int, time_s: float) -> Record:
        return RelationEndRecord(
            frame=state.last_held_frame,
            time=state.last_held_time,
            relation_id=state.relation_id,
            relation=self.spec.relations[key[0]].name,
            hand_id=key[1],
            object_id=key[2],
            object_label=state.object_label,
            reason=reason,
            duration_frames=state.last_held_frame - state.onset_frame + 1,
            duration_s=state.last_held_time - state.onset_time + self._period,
            mean_score=state.score_sum / state.score_count,
            max_score=state.score_max,
            ended_frame=frame_index,
            ended_time=time_s,
            carried_frames=state.carried_total,
        )

    @staticmethod
    def _update_record(
        key: _Key,
        relation: RelationSpec,
        state: _PairState,
        frame_index: int,
        time_s: float,
        hand: Track,
        obj: Track,
        holds: bool,
        score: float,
    ) -> Record:
        return RelationUpdateRecord(
            frame=frame_index,
            time=time_s,
            relation_id=state.relation_id,
            relation=relation.name,
            hand_id=key[1],
            object_id=key[2],
            object_label=obj.label,
            holds=holds,
            score=score,
            hand_box=hand.box,
            object_box=obj.box,
        )
