"""Predicates between a hand and an object: pure, scale-independent, graded.

Every predicate answers ``evaluate(hand, obj, context=None) -> (holds, score)`` for two boxes
``x1, y1, x2, y2`` in image pixels (y grows downwards) and, optionally, a `PairContext`: the
hand's keypoints and the recent box centres of the hand and the object (the engine builds one
per hand-object pair and frame). The box predicates ignore the context; ``fingertips_in`` and
``grasp`` read the keypoints and ``moves_with`` the centres, and without them they do not hold
(score 0). ``holds`` is the thresholded answer;
``score`` in ``[0, 1]`` says how strongly the geometry points that way (it is defined whether or
not the predicate holds, so ``all``/``any`` can combine it). Distances are measured in units of
the hand box's diagonal and areas as ratios, so scaling both boxes by the same factor (a closer
camera, a larger frame) never changes the answer.

======================  =====================================================================
predicate (YAML key)    holds when ...                                  score
======================  =====================================================================
``overlap``             IoU >= ``min_iou`` OR the share of the object's   max(IoU, covered share)
                        area inside the hand box >= ``min_object_covered``
                        (either or both given; unset ones never hold)
``contains``            the share of the object's area inside the hand    that share
                        box grown by ``margin`` × hand diagonal on every
                        side is >= ``min_object_covered`` (default 1.0:
                        wholly inside; ``margin`` default 0)
``near``                ``measure: gap`` (default): the gap between the   1 - d / (k × diagonal),
                        boxes (0 when they touch or overlap) <=           clipped to [0, 1]
                        ``max_gap`` × hand diagonal; ``measure:
                        centers``: the distance between the box centres
                        <= ``max_distance`` × hand diagonal
``left_of``             object centre x < hand centre x                   cosine between the
``right_of``            object centre x > hand centre x                   centre offset and the
``above``               object centre y < hand centre y (higher in the    direction (1: straight
                        image)                                            that way), 0 if not
``below``               object centre y > hand centre y                   that way
                        (each: the offset that way must also be >=
                        ``min_offset`` × hand diagonal, default 0)
``fingertips_in``       at least ``min_tips`` (default 2) of the 5        tips inside / 5
                        fingertips lie in the object box grown by
                        ``margin`` × hand diagonal (default 0.05) on
                        every side (edges count as inside)
``grasp``               the thumb tip and another fingertip are both in   max over the 4 other
                        the grown object box (``margin``, default 0.05),  tips of min(closeness
                        or they lie on opposite sides of the object's     of the thumb, of the
                        centre along its wider axis (x when width >=      tip); closeness = 1 -
                        height), both level with it (within the grown     distance to the grown
                        box along the other axis)                         box / hand diagonal
``moves_with``          over the last ``window_frames`` frames (default   max(cosine, 0) ×
                        5) the hand centre moved >= ``min_hand_motion`` ×  min(r, 1 / r), where
                        hand diagonal (default 0.1; less: undecided,      r = object / hand
                        false), the cosine of the hand's and the          displacement length
                        object's displacements is >= ``min_cosine``       (0 when undecided)
                        (default 0.8) and r lies in [``min_length_ratio``,
                        ``max_length_ratio``] (default [0.5, 2])
``all: [...]``          every child holds                                 min of the children
``any: [...]``          at least one child holds                          max of the children
======================  =====================================================================

A zero-area object box counts as covered (share 1) when it lies inside the hand box, else 0.

Keypoints. ``fingertips_in`` and ``grasp`` use the hand's ``thumb_tip``, ``index_finger_tip``,
``middle_finger_tip``, ``ring_finger_tip`` and ``pinky_tip`` (MediaPipe's names; 21 unnamed
keypoints are read in MediaPipe's order), ``x, y`` only. Keypoints the tracker predicted
(``keypoints_source: predicted``: the last observed ones moved with the hand box) count as
observed ones: between landmark runs the hand is still where its box says. A hand without
keypoints (a box-only hand detector), or whose keypoints lack a fingertip, never satisfies them.

Motion. ``moves_with`` compares box centres ``window_frames`` processed frames apart; it needs
``window_frames + 1`` consecutive frames on which both tracks were reported (`PairContext`'s
``hand_centres`` / ``object_centres``, oldest first), and is undecided (false, score 0) before
that. The object's centres are its track's boxes, predicted between object-detector runs.

Example:
    >>> hand, cup = (100, 100, 200, 200), (150, 120, 230, 180)
    >>> Overlap(min_iou=0.05).evaluate(hand, cup)
    (True, 0.625)
    >>> Near(max_gap=0.25).evaluate(hand, (250, 100, 300, 150))[0]   # gap 50 px, 0.25 × 141 px = 35 px
    False
    >>> Direction("above").evaluate(hand, (140, 0, 160, 40))          # straight above: cosine 1
    (True, 1.0)
    >>> tips = PairContext.of_fingertips([(150, 130), (160, 130), (170, 130), (250, 250), (250, 260)])
    >>> FingertipsIn().evaluate(hand, cup, tips)                       # 3 of 5 tips on the cup
    (True, 0.6)
    >>> FingertipsIn().evaluate(hand, cup)                             # no keypoints: never
    (False, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from detectors.detections import HAND_KEYPOINT_NAMES
from detectors.geometry import Box, box_gap, center, covered_share, diagonal, iou

#: The four directions, as the YAML keys name them.
DIRECTIONS: tuple[str, ...] = ("left_of", "right_of", "above", "below")
#: ``near`` measures.
NEAR_MEASURES: tuple[str, ...] = ("gap", "centers")
#: The five fingertips, thumb first (MediaPipe's keypoint names).
FINGERTIP_NAMES: tuple[str, ...] = (
    "thumb_tip",
    "index_finger_tip",
    "middle_finger_tip",
    "ring_finger_tip",
    "pinky_tip",
)
_FINGERTIP_INDICES: tuple[int, ...] = tuple(HAND_KEYPOINT_NAMES.index(name) for name in FINGERTIP_NAMES)
#: Ranges of the contact predicates' parameters (the schema states the same ones).
MAX_WINDOW_FRAMES = 300
MAX_LENGTH_RATIO = 100

Point = tuple[float, float]


def _clip01(value: float) -> float:
    return 0.0 if value <= 0.0 else (1.0 if value >= 1.0 else float(value))


def _check_int(owner: str, name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{owner}: {name} must be an integer in [{low}, {high}], got {value!r}")


def _check_fraction(owner: str, name: str, value: float | None, low: float, high: float, low_open: bool) -> None:
    """Direct construction is checked as strictly as YAML is (the schema has the same ranges)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    if (value <= low if low_open else value < low) or value > high:
        raise ValueError(f"{owner}: {name} must lie in {'(' if low_open else '['}{low}, {high}], got {value!r}")


# --------------------------------------------------------------------------- the evaluation context
@dataclass(frozen=True)
class PairContext:
    """What a predicate may know of a hand-object pair beyond its two boxes on this frame.

    The engine builds one per (hand, object) pair and frame from the hand track and the object
    track; a predicate that needs something absent here answers ``(False, 0.0)``.

    Attributes:
        keypoints: the hand track's keypoints ``(x, y, v)`` in frame pixels (observed or
            predicted), or ``None`` for a hand without keypoints.
        keypoint_names: their names (``()``: 21 keypoints are taken in MediaPipe's order).
        hand_centres: the hand box's centres on the last consecutive processed frames on which
            both tracks were reported, oldest first, this frame last (``()`` when no predicate of
            the spec looks at motion: the engine keeps only as many frames as the longest
            ``window_frames`` needs, plus one).
        object_centres: the object box's centres on the same frames.
    """

    keypoints: tuple[tuple[float, float, float], ...] | None = None
    keypoint_names: tuple[str, ...] = ()
    hand_centres: tuple[Point, ...] = ()
    object_centres: tuple[Point, ...] = ()

    @classmethod
    def of_fingertips(cls, tips: Sequence[Sequence[float]]) -> PairContext:
        """A context with just the five fingertips ``(x, y)``, thumb first (tests, examples)."""
        return cls(tuple((float(x), float(y), 0.0) for x, y in tips), FINGERTIP_NAMES)

    def fingertips(self) -> tuple[Point, ...] | None:
        """The five fingertips ``(x, y)``, thumb first, or ``None`` when the hand has no such keypoints."""
        points = self.keypoints
        if not points:
            return None
        if self.keypoint_names:
            indices = _tip_indices(tuple(self.keypoint_names))
            if indices is None:
                return None
        elif len(points) == len(HAND_KEYPOINT_NAMES):
            indices = _FINGERTIP_INDICES
        else:
            return None
        return tuple((float(points[i][0]), float(points[i][1])) for i in indices)


@lru_cache(maxsize=64)
def _tip_indices(names: tuple[str, ...]) -> tuple[int, ...] | None:
    where = {name: index for index, name in enumerate(names)}
    if not all(name in where for name in FINGERTIP_NAMES):
        return None
    return tuple(where[name] for name in FINGERTIP_NAMES)


def _grown(box: Box, grow: float) -> Box:
    return (box[0] - grow, box[1] - grow, box[2] + grow, box[3] + grow)


def _inside(point: Point, box: Box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def history_frames(predicate: Predicate) -> int:
    """How many past frames of box centres ``predicate`` (and its children) look at: 0 for none.

    Example:
        >>> history_frames(AllOf((Overlap(min_iou=0.1), MovesWith(window_frames=7))))
        7
    """
    own = getattr(predicate, "window_frames", 0) if isinstance(predicate, MovesWith) else 0
    children = getattr(predicate, "children", ()) if isinstance(predicate, AllOf | AnyOf) else ()
    return max([own, *(history_frames(child) for child in children)])


# --------------------------------------------------------------------------- predicates
@runtime_checkable
class Predicate(Protocol):
    """What the engine needs of a predicate (the classes below, or a user's own)."""

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        """``(holds, score)`` for one hand box and one object box (and what else `PairContext` knows)."""
        ...

    def to_config(self) -> dict[str, Any]:
        """The predicate as its YAML mapping, defaults filled in."""
        ...


@dataclass(frozen=True)
class Overlap:
    """``overlap``: the boxes overlap enough, by IoU or by the share of the object the hand covers.

    The covered share is there because a hand grasping a small object covers most of it while
    the IoU stays low (the hand box is much larger); IoU is there for objects of hand size.

    Example:
        >>> Overlap(min_object_covered=0.5).evaluate((0, 0, 100, 100), (80, 0, 120, 40))
        (True, 0.5)
    """

    min_iou: float | None = None
    min_object_covered: float | None = None

    def __post_init__(self) -> None:
        if self.min_iou is None and self.min_object_covered is None:
            raise ValueError("overlap: give min_iou, min_object_covered or both")
        _check_fraction("overlap", "min_iou", self.min_iou, 0.0, 1.0, low_open=True)
        _check_fraction("overlap", "min_object_covered", self.min_object_covered, 0.0, 1.0, low_open=True)

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        ratio_iou = iou(hand, obj)
        covered = covered_share(hand, obj)
        holds = (self.min_iou is not None and ratio_iou >= self.min_iou) or (
            self.min_object_covered is not None and covered >= self.min_object_covered
        )
        return bool(holds), _clip01(max(ratio_iou, covered))

    def to_config(self) -> dict[str, Any]:
        params = {"min_iou": self.min_iou, "min_object_covered": self.min_object_covered}
        return {"overlap": {k: v for k, v in params.items() if v is not None}}


@dataclass(frozen=True)
class Contains:
    """``contains``: the object lies inside the hand box (grown by ``margin`` × hand diagonal).

    ``min_object_covered`` below 1 tolerates an object poking out of the hand box; ``margin``
    tolerates a hand box drawn tight around the fingers.

    Example:
        >>> Contains().evaluate((0, 0, 100, 100), (10, 10, 50, 50))
        (True, 1.0)
        >>> Contains().evaluate((0, 0, 100, 100), (90, 10, 110, 50))
        (False, 0.5)
        >>> Contains(margin=0.1).evaluate((0, 0, 100, 100), (90, 10, 110, 50))[0]   # grown by 14.1 px
        True
    """

    min_object_covered: float = 1.0
    margin: float = 0.0

    def __post_init__(self) -> None:
        _check_fraction("contains", "min_object_covered", self.min_object_covered, 0.0, 1.0, low_open=True)
        _check_fraction("contains", "margin", self.margin, 0.0, 1.0, low_open=False)

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        grow = self.margin * diagonal(hand)
        grown = (hand[0] - grow, hand[1] - grow, hand[2] + grow, hand[3] + grow) if grow > 0 else hand
        covered = covered_share(grown, obj)
        return covered >= self.min_object_covered, _clip01(covered)

    def to_config(self) -> dict[str, Any]:
        return {"contains": {"min_object_covered": self.min_object_covered, "margin": self.margin}}


@dataclass(frozen=True)
class Near:
    """``near``: the object is within ``k`` hand diagonals of the hand.

    ``measure="gap"`` (default) uses the gap between the boxes and ``max_gap``;
    ``measure="centers"`` the distance between the centres and ``max_distance``. Exactly the
    limit of the chosen measure must be given (a limit of the other measure is a mistake, not a
    fallback).

    Example:
        >>> Near(max_gap=0.5).evaluate((0, 0, 30, 40), (40, 0, 50, 10))     # gap 10 px, limit 25 px
        (True, 0.6)
        >>> Near(measure="centers", max_distance=1.0).evaluate((0, 0, 30, 40), (40, 0, 50, 10))[0]
        True
    """

    max_gap: float | None = None
    max_distance: float | None = None
    measure: str = "gap"

    def __post_init__(self) -> None:
        if self.measure not in NEAR_MEASURES:
            raise ValueError(f"near: measure must be one of {', '.join(NEAR_MEASURES)}, got {self.measure!r}")
        wanted, other = ("max_gap", "max_distance") if self.measure == "gap" else ("max_distance", "max_gap")
        if getattr(self, other) is not None:
            raise ValueError(f"near: {other} does not apply to measure {self.measure!r}; use {wanted}")
        if getattr(self, wanted) is None:
            raise ValueError(f"near: measure {self.measure!r} needs {wanted} (a multiple of the hand box's diagonal)")
        _check_fraction("near", "max_gap", self.max_gap, 0.0, 10.0, low_open=False)
        _check_fraction("near", "max_distance", self.max_distance, 0.0, 10.0, low_open=True)

    @property
    def limit(self) -> float:
        """The chosen measure's limit, in hand diagonals."""
        return float(self.max_gap if self.measure == "gap" else self.max_distance)  # type: ignore[arg-type]

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        if self.measure == "gap":
            distance = box_gap(hand, obj)
        else:
            (hx, hy), (ox, oy) = center(hand), center(obj)
            distance = math.hypot(ox - hx, oy - hy)
        limit = self.limit * diagonal(hand)
        if limit <= 0:  # max_gap 0 (touching only) or a degenerate hand box: no room to grade
            return distance <= 0.0, 1.0 if distance <= 0.0 else 0.0
        return distance <= limit, _clip01(1.0 - distance / limit)

    def to_config(self) -> dict[str, Any]:
        key = "max_gap" if self.measure == "gap" else "max_distance"
        return {"near": {"measure": self.measure, key: self.limit}}


@dataclass(frozen=True)
class Direction:
    """``left_of`` / ``right_of`` / ``above`` / ``below``: where the object's centre is, seen from the hand's.

    Image coordinates, as the camera sees them: x grows to the right, y grows **downwards**, so
    ``above`` means a smaller centre y (higher in the picture). ``left_of`` means the object is
    on the image's left of the hand (the viewer's left, not the hand's). The offset in that
    direction must be positive and at least ``min_offset`` × hand diagonal. The score is the
    cosine between the centre-to-centre offset and the direction, so an object straight above
    scores 1 and one diagonally above-left about 0.71 for both ``above`` and ``left_of``.

    Example:
        >>> hand = (100, 100, 200, 200)                       # centre (150, 150)
        >>> Direction("left_of").evaluate(hand, (0, 140, 20, 160))
        (True, 1.0)
        >>> Direction("below").evaluate(hand, (0, 140, 20, 160))
        (False, 0.0)
    """

    direction: str
    min_offset: float = 0.0

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {self.direction!r}")
        _check_fraction(self.direction, "min_offset", self.min_offset, 0.0, 10.0, low_open=False)

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        (hx, hy), (ox, oy) = center(hand), center(obj)
        offset = {"left_of": hx - ox, "right_of": ox - hx, "above": hy - oy, "below": oy - hy}[self.direction]
        distance = math.hypot(ox - hx, oy - hy)
        holds = offset > 0.0 and offset >= self.min_offset * diagonal(hand)
        return holds, _clip01(offset / distance) if offset > 0.0 else 0.0

    def to_config(self) -> dict[str, Any]:
        return {self.direction: {"min_offset": self.min_offset}}


@dataclass(frozen=True)
class FingertipsIn:
    """``fingertips_in``: at least ``min_tips`` of the five fingertips lie on the object.

    "On" means inside the object box grown by ``margin`` × hand diagonal on every side (edges
    included): a fingertip resting on the object's rim is drawn at its edge. Score: the share
    of the five tips inside, whether or not it holds. No keypoints (or no fingertips among
    them): ``(False, 0.0)``.

    Example:
        >>> tips = PairContext.of_fingertips([(0, 0), (12, 10), (20, 20), (40, 40), (50, 50)])
        >>> FingertipsIn(min_tips=2, margin=0.0).evaluate((0, 0, 60, 80), (10, 10, 20, 20), tips)
        (True, 0.4)
    """

    min_tips: int = 2
    margin: float = 0.05

    def __post_init__(self) -> None:
        _check_int("fingertips_in", "min_tips", self.min_tips, 1, len(FINGERTIP_NAMES))
        _check_fraction("fingertips_in", "margin", self.margin, 0.0, 1.0, low_open=False)

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        tips = context.fingertips() if context is not None else None
        if tips is None:
            return False, 0.0
        grown = _grown(obj, self.margin * diagonal(hand))
        inside = sum(1 for tip in tips if _inside(tip, grown))
        return inside >= self.min_tips, inside / len(tips)

    def to_config(self) -> dict[str, Any]:
        return {"fingertips_in": {"min_tips": self.min_tips, "margin": self.margin}}


@dataclass(frozen=True)
class Grasp:
    """``grasp``: the thumb and another fingertip hold the object between them, or both rest on it.

    With ``G`` the object box grown by ``margin`` × hand diagonal on every side, it holds when
    for the thumb tip and at least one of the four other fingertips either

    * both lie in ``G`` (a pinch on the object, or fingers on its visible face), or
    * they lie strictly on opposite sides of the object's centre along its wider axis (x when
      the box is at least as wide as tall, else y), both level with the object: within ``G``
      along the other axis (a hand closed around the object, tips possibly past its edges).

    Score: the largest, over the four other tips, of min(closeness of the thumb, closeness of
    that tip), where closeness = 1 - (distance from the tip to ``G``) / hand diagonal, clipped
    to [0, 1] (1 inside ``G``). No keypoints: ``(False, 0.0)``.

    Example:
        >>> cup = (40, 20, 60, 80)                                  # taller than wide: y is the wide axis
        >>> around = PairContext.of_fingertips([(50, 10), (50, 90), (0, 0), (0, 0), (0, 0)])
        >>> Grasp(margin=0.0).evaluate((0, 0, 60, 80), cup, around)  # thumb above, index below the centre
        (True, 0.9)
    """

    margin: float = 0.05

    def __post_init__(self) -> None:
        _check_fraction("grasp", "margin", self.margin, 0.0, 1.0, low_open=False)

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        tips = context.fingertips() if context is not None else None
        if tips is None:
            return False, 0.0
        diag = diagonal(hand)
        grown = _grown(obj, self.margin * diag)
        wide = 0 if obj[2] - obj[0] >= obj[3] - obj[1] else 1  # the axis along which the box is wider
        narrow = 1 - wide
        middle = (obj[wide] + obj[wide + 2]) / 2.0

        def level(tip: Point) -> bool:
            return grown[narrow] <= tip[narrow] <= grown[narrow + 2]

        def closeness(tip: Point) -> float:
            gap = box_gap(grown, (tip[0], tip[1], tip[0], tip[1]))
            if gap <= 0.0:
                return 1.0
            return _clip01(1.0 - gap / diag) if diag > 0 else 0.0

        thumb, others = tips[0], tips[1:]
        thumb_in, thumb_level = _inside(thumb, grown), level(thumb)
        holds = any(
            (thumb_in and _inside(tip, grown))
            or (thumb_level and level(tip) and (thumb[wide] - middle) * (tip[wide] - middle) < 0.0)
            for tip in others
        )
        near_thumb = closeness(thumb)
        return holds, max(min(near_thumb, closeness(tip)) for tip in others)

    def to_config(self) -> dict[str, Any]:
        return {"grasp": {"margin": self.margin}}


@dataclass(frozen=True)
class MovesWith:
    """``moves_with``: the object moved with the hand over the last ``window_frames`` frames.

    From the context's centres (`PairContext.hand_centres` / ``object_centres``), the hand's
    displacement ``h`` and the object's ``o`` from ``window_frames`` processed frames ago to
    now. Undecided, so ``(False, 0.0)``: fewer than ``window_frames + 1`` frames of history, or
    ``|h|`` below ``min_hand_motion`` × hand diagonal (this frame's; a resting hand says nothing
    about what it carries) or zero. Otherwise, with ``r = |o| / |h|`` and ``cos`` the cosine of
    the angle between ``h`` and ``o`` (0 when the object did not move), it holds when ``cos >=
    min_cosine`` and ``min_length_ratio <= r <= max_length_ratio``. Score: ``max(cos, 0) ×
    min(r, 1 / r)`` (1: same direction, same length).

    A carried object moves with the hand; an object merely touched, or next to a hand passing
    by, stays (``r`` near 0). Combine it with a contact predicate (``all``) for "holding".

    Example:
        >>> moving = PairContext(hand_centres=((0, 0), (10, 0), (20, 0)), object_centres=((5, 5), (14, 5), (23, 5)))
        >>> MovesWith(window_frames=2).evaluate((10, -10, 30, 10), (18, 0, 28, 10), moving)   # r = 0.9
        (True, 0.9)
    """

    window_frames: int = 5
    min_cosine: float = 0.8
    min_length_ratio: float = 0.5
    max_length_ratio: float = 2.0
    min_hand_motion: float = 0.1

    def __post_init__(self) -> None:
        _check_int("moves_with", "window_frames", self.window_frames, 1, MAX_WINDOW_FRAMES)
        _check_fraction("moves_with", "min_cosine", self.min_cosine, -1.0, 1.0, low_open=False)
        _check_fraction("moves_with", "min_length_ratio", self.min_length_ratio, 0.0, MAX_LENGTH_RATIO, low_open=True)
        _check_fraction("moves_with", "max_length_ratio", self.max_length_ratio, 0.0, MAX_LENGTH_RATIO, low_open=True)
        _check_fraction("moves_with", "min_hand_motion", self.min_hand_motion, 0.0, 10.0, low_open=True)
        if self.min_length_ratio > self.max_length_ratio:
            raise ValueError(
                f"moves_with: min_length_ratio {self.min_length_ratio!r} exceeds max_length_ratio "
                f"{self.max_length_ratio!r}"
            )

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        span = self.window_frames + 1
        if context is None or min(len(context.hand_centres), len(context.object_centres)) < span:
            return False, 0.0
        (hx0, hy0), (hx1, hy1) = context.hand_centres[-span], context.hand_centres[-1]
        (ox0, oy0), (ox1, oy1) = context.object_centres[-span], context.object_centres[-1]
        hdx, hdy, odx, ody = hx1 - hx0, hy1 - hy0, ox1 - ox0, oy1 - oy0
        hand_length, object_length = math.hypot(hdx, hdy), math.hypot(odx, ody)
        if hand_length <= 0.0 or hand_length < self.min_hand_motion * diagonal(hand):
            return False, 0.0
        if object_length <= 0.0:
            return False, 0.0
        cosine = max(-1.0, min(1.0, (hdx * odx + hdy * ody) / (hand_length * object_length)))
        ratio = object_length / hand_length
        holds = cosine >= self.min_cosine and self.min_length_ratio <= ratio <= self.max_length_ratio
        return holds, _clip01(max(cosine, 0.0) * min(ratio, 1.0 / ratio))

    def to_config(self) -> dict[str, Any]:
        return {
            "moves_with": {
                "window_frames": self.window_frames,
                "min_cosine": self.min_cosine,
                "min_length_ratio": self.min_length_ratio,
                "max_length_ratio": self.max_length_ratio,
                "min_hand_motion": self.min_hand_motion,
            }
        }


@dataclass(frozen=True)
class AllOf:
    """``all``: every child holds; score = the smallest child score.

    Every child is evaluated (no short cut), so the score is defined whether or not it holds.

    Example:
        >>> AllOf((Overlap(min_iou=0.1), Direction("above"))).evaluate((0, 0, 10, 10), (0, -5, 10, 5))
        (True, 0.5)
    """

    children: tuple[Predicate, ...]

    def __post_init__(self) -> None:
        if not self.children:
            raise ValueError("all: needs at least one predicate")

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        results = [child.evaluate(hand, obj, context) for child in self.children]
        return all(h for h, _ in results), min(s for _, s in results)

    def to_config(self) -> dict[str, Any]:
        return {"all": [child.to_config() for child in self.children]}


@dataclass(frozen=True)
class AnyOf:
    """``any``: at least one child holds; score = the largest child score.

    Example:
        >>> AnyOf((Contains(), Direction("below"))).evaluate((0, 0, 10, 10), (0, 20, 10, 30))
        (True, 1.0)
    """

    children: tuple[Predicate, ...]

    def __post_init__(self) -> None:
        if not self.children:
            raise ValueError("any: needs at least one predicate")

    def evaluate(self, hand: Box, obj: Box, context: PairContext | None = None) -> tuple[bool, float]:
        results = [child.evaluate(hand, obj, context) for child in self.children]
        return any(h for h, _ in results), max(s for _, s in results)

    def to_config(self) -> dict[str, Any]:
        return {"any": [child.to_config() for child in self.children]}


Issue = tuple[tuple[Any, ...], str]


def build_predicate(raw: Mapping[str, Any], path: tuple[Any, ...] = ()) -> tuple[Predicate | None, list[Issue]]:
    """A predicate from its YAML mapping (one key), with the issues found at ``path``.

    ``raw`` is what the relations schema (`orchestrator.relations.schema`) accepted: its
    structure (one key, known names, known parameters, types, ranges) is checked there, once.
    This reports only what the schema cannot say (which ``near`` limit goes with which measure,
    ``overlap`` without any threshold, a ``moves_with`` length band whose minimum exceeds its
    maximum), as ``(None, issues)``; on data the schema would refuse it
    may raise `KeyError`, `TypeError` or `ValueError`.

    Example:
        >>> build_predicate({"all": [{"overlap": {"min_iou": 0.1}}, {"above": None}]})[0]
        AllOf(children=(Overlap(min_iou=0.1, min_object_covered=None), Direction(direction='above', min_offset=0.0)))
        >>> build_predicate({"near": {"max_distance": 1}}, ("when",))[1]
        [(('when', 'near'), "max_distance does not apply to measure 'gap'; use max_gap")]
    """
    ((name, params),) = raw.items()
    where = (*path, name)
    if name in ("all", "any"):
        children: list[Predicate] = []
        issues: list[Issue] = []
        for index, item in enumerate(params):
            child, child_issues = build_predicate(item, (*where, index))
            issues += child_issues
            if child is not None:
                children.append(child)
        if issues:
            return None, issues
        return (AllOf if name == "all" else AnyOf)(tuple(children)), []
    params = params or {}  # `above:` with nothing after it: all defaults
    try:
        if name == "overlap":
            return Overlap(**params), []
        if name == "contains":
            return Contains(**params), []
        if name == "near":
            return Near(**params), []
        if name == "fingertips_in":
            return FingertipsIn(**params), []
        if name == "grasp":
            return Grasp(**params), []
        if name == "moves_with":
            return MovesWith(**params), []
        return Direction(name, **params), []
    except ValueError as exc:
        # The owner prefix ("near: ") repeats the path's last part; keep the message itself.
        return None, [(where, str(exc).split(": ", 1)[-1])]
