"""Geometric predicates between a hand box and an object box: pure, scale-independent, graded.

Every predicate answers ``evaluate(hand, obj) -> (holds, score)`` for two boxes
``x1, y1, x2, y2`` in image pixels (y grows downwards). ``holds`` is the thresholded answer;
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
``all: [...]``          every child holds                                 min of the children
``any: [...]``          at least one child holds                          max of the children
======================  =====================================================================

A zero-area object box counts as covered (share 1) when it lies inside the hand box, else 0.

Example:
    >>> hand, cup = (100, 100, 200, 200), (150, 120, 230, 180)
    >>> Overlap(min_iou=0.05).evaluate(hand, cup)
    (True, 0.625)
    >>> Near(max_gap=0.25).evaluate(hand, (250, 100, 300, 150))[0]   # gap 50 px, 0.25 × 141 px = 35 px
    False
    >>> Direction("above").evaluate(hand, (140, 0, 160, 40))          # straight above: cosine 1
    (True, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from detectors.geometry import Box, box_gap, center, covered_share, diagonal, iou

#: The four directions, as the YAML keys name them.
DIRECTIONS: tuple[str, ...] = ("left_of", "right_of", "above", "below")
#: ``near`` measures.
NEAR_MEASURES: tuple[str, ...] = ("gap", "centers")


def _clip01(value: float) -> float:
    return 0.0 if value <= 0.0 else (1.0 if value >= 1.0 else float(value))


def _check_fraction(owner: str, name: str, value: float | None, low: float, high: float, low_open: bool) -> None:
    """Direct construction is checked as strictly as YAML is (the schema has the same ranges)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    if (value <= low if low_open else value < low) or value > high:
        raise ValueError(f"{owner}: {name} must lie in {'(' if low_open else '['}{low}, {high}], got {value!r}")


# --------------------------------------------------------------------------- predicates
@runtime_checkable
class Predicate(Protocol):
    """What the engine needs of a predicate (the classes below, or a user's own)."""

    def evaluate(self, hand: Box, obj: Box) -> tuple[bool, float]:
        """``(holds, score)`` for one hand box and one object box."""
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

    def evaluate(self, hand: Box, obj: Box) -> tuple[bool, float]:
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

    def evaluate(self, hand: Box, obj: Box) -> tuple[bool, float]:
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

    def evaluate(self, hand: Box, obj: Box) -> tuple[bool, float]:
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

    def evaluate(self, hand: Box, obj: Box) -> tuple[bool, float]:
        (hx, hy), (ox, oy) = center(hand), center(obj)
        offset = {"left_of": hx - ox, "right_of": ox - hx, "above": hy - oy, "below": oy - hy}[self.direction]
        distance = math.hypot(ox - hx, oy - hy)
        holds = offset > 0.0 and offset >= self.min_offset * diagonal(hand)
        return holds, _clip01(offset / distance) if offset > 0.0 else 0.0

    def to_config(self) -> dict[str, Any]:
        return {self.direction: {"min_offset": self.min_offset}}


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

    def evaluate(self, hand: Box, obj: Box) -> tuple[bool, float]:
        results = [child.evaluate(hand, obj) for child in self.children]
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

    def evaluate(self, hand: Box, obj: Box) -> tuple[bool, float]:
        results = [child.evaluate(hand, obj) for child in self.children]
        return any(h for h, _ in results), max(s for _, s in results)

    def to_config(self) -> dict[str, Any]:
        return {"any": [child.to_config() for child in self.children]}


Issue = tuple[tuple[Any, ...], str]


def build_predicate(raw: Mapping[str, Any], path: tuple[Any, ...] = ()) -> tuple[Predicate | None, list[Issue]]:
    """A predicate from its YAML mapping (one key), with the issues found at ``path``.

    ``raw`` is what the relations schema (`orchestrator.relations.schema`) accepted: its
    structure (one key, known names, known parameters, types, ranges) is checked there, once.
    This reports only what the schema cannot say (which ``near`` limit goes with which measure,
    ``overlap`` without any threshold), as ``(None, issues)``; on data the schema would refuse it
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
        return Direction(name, **params), []
    except ValueError as exc:
        # The owner prefix ("near: ") repeats the path's last part; keep the message itself.
        return None, [(where, str(exc).split(": ", 1)[-1])]
