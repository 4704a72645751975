"""Relation predicates: exact answers, scale independence, directions, all/any nesting, the builder."""

from __future__ import annotations

import math

import pytest

from orchestrator.relations.predicates import (
    AllOf,
    AnyOf,
    Contains,
    Direction,
    Near,
    Overlap,
    Predicate,
    build_predicate,
)

HAND = (0.0, 0.0, 100.0, 100.0)  # diagonal 141.42
SMALL_HAND = (0.0, 0.0, 30.0, 40.0)  # diagonal 50
CENTRED_HAND = (100.0, 100.0, 200.0, 200.0)  # centre (150, 150), diagonal 141.42


def around(x: float, y: float, half: float = 10.0) -> tuple[float, float, float, float]:
    """A box centred on (x, y)."""
    return (x - half, y - half, x + half, y + half)


# (id, predicate, hand box, object box, holds, score rounded to 1e-4)
CASES: list[tuple[str, Predicate, tuple, tuple, bool, float]] = [
    # overlap: object half inside the hand: IoU 1/3, covered share 0.5 -> score 0.5
    ("overlap-iou-pass", Overlap(min_iou=0.3), HAND, (50, 0, 150, 100), True, 0.5),
    ("overlap-iou-fail", Overlap(min_iou=0.4), HAND, (50, 0, 150, 100), False, 0.5),
    ("overlap-covered-at-limit", Overlap(min_object_covered=0.5), HAND, (50, 0, 150, 100), True, 0.5),
    ("overlap-covered-fail", Overlap(min_object_covered=0.6), HAND, (50, 0, 150, 100), False, 0.5),
    ("overlap-either-one", Overlap(min_iou=0.4, min_object_covered=0.4), HAND, (50, 0, 150, 100), True, 0.5),
    ("overlap-small-object-low-iou", Overlap(min_iou=0.05), HAND, (10, 10, 20, 20), False, 1.0),
    ("overlap-small-object-covered", Overlap(min_object_covered=0.3), HAND, (10, 10, 20, 20), True, 1.0),
    ("overlap-disjoint", Overlap(min_iou=0.01, min_object_covered=0.01), HAND, (200, 0, 300, 100), False, 0.0),
    ("overlap-touching-edge", Overlap(min_iou=0.01), HAND, (100, 0, 200, 100), False, 0.0),
    ("overlap-same-box", Overlap(min_iou=1.0), HAND, HAND, True, 1.0),
    # contains
    ("contains-inside", Contains(), HAND, (10, 10, 50, 50), True, 1.0),
    ("contains-same-box", Contains(), HAND, HAND, True, 1.0),
    ("contains-half-out", Contains(), HAND, (90, 10, 110, 50), False, 0.5),
    ("contains-half-out-allowed", Contains(min_object_covered=0.5), HAND, (90, 10, 110, 50), True, 0.5),
    ("contains-margin", Contains(margin=0.1), HAND, (90, 10, 110, 50), True, 1.0),  # grown by 14.14 px
    ("contains-margin-too-small", Contains(margin=0.05), HAND, (90, 10, 110, 50), False, 0.8536),
    ("contains-point-inside", Contains(), HAND, (50, 50, 50, 50), True, 1.0),
    ("contains-point-outside", Contains(), HAND, (150, 150, 150, 150), False, 0.0),
    ("contains-disjoint", Contains(), HAND, (200, 200, 300, 300), False, 0.0),
    # near, gap: 10 px right of a 30x40 hand (diagonal 50)
    ("near-gap-pass", Near(max_gap=0.5), SMALL_HAND, (40, 0, 50, 10), True, 0.6),
    ("near-gap-fail", Near(max_gap=0.1), SMALL_HAND, (40, 0, 50, 10), False, 0.0),
    ("near-gap-diagonal", Near(max_gap=0.2), SMALL_HAND, (33, 44, 40, 50), True, 0.5),  # gap hypot(3, 4) = 5
    ("near-gap-overlapping", Near(max_gap=0.1), SMALL_HAND, (20, 20, 60, 60), True, 1.0),
    ("near-gap-zero-touching", Near(max_gap=0.0), SMALL_HAND, (30, 0, 40, 10), True, 1.0),
    ("near-gap-zero-apart", Near(max_gap=0.0), SMALL_HAND, (40, 0, 50, 10), False, 0.0),
    # near, centres: (15, 20) to (45, 5) is sqrt(1125) = 33.54 px
    ("near-centers-pass", Near(measure="centers", max_distance=1.0), SMALL_HAND, (40, 0, 50, 10), True, 0.3292),
    ("near-centers-fail", Near(measure="centers", max_distance=0.5), SMALL_HAND, (40, 0, 50, 10), False, 0.0),
    ("near-centers-same-centre", Near(measure="centers", max_distance=0.1), SMALL_HAND, (5, 10, 25, 30), True, 1.0),
    # directions, from a hand centred on (150, 150); y grows downwards
    ("left_of-straight", Direction("left_of"), CENTRED_HAND, around(50, 150), True, 1.0),
    ("right_of-of-left-object", Direction("right_of"), CENTRED_HAND, around(50, 150), False, 0.0),
    ("above-of-left-object", Direction("above"), CENTRED_HAND, around(50, 150), False, 0.0),
    ("below-of-left-object", Direction("below"), CENTRED_HAND, around(50, 150), False, 0.0),
    ("right_of-straight", Direction("right_of"), CENTRED_HAND, around(250, 150), True, 1.0),
    ("left_of-of-right-object", Direction("left_of"), CENTRED_HAND, around(250, 150), False, 0.0),
    ("above-smaller-y", Direction("above"), CENTRED_HAND, around(150, 50), True, 1.0),
    ("below-of-higher-object", Direction("below"), CENTRED_HAND, around(150, 50), False, 0.0),
    ("below-larger-y", Direction("below"), CENTRED_HAND, around(150, 250), True, 1.0),
    ("above-of-lower-object", Direction("above"), CENTRED_HAND, around(150, 250), False, 0.0),
    ("left_of-up-left", Direction("left_of"), CENTRED_HAND, around(50, 50), True, 0.7071),
    ("above-up-left", Direction("above"), CENTRED_HAND, around(50, 50), True, 0.7071),
    ("right_of-up-left", Direction("right_of"), CENTRED_HAND, around(50, 50), False, 0.0),
    ("left_of-same-centre", Direction("left_of"), CENTRED_HAND, around(150, 150), False, 0.0),
    ("above-same-centre", Direction("above"), CENTRED_HAND, around(150, 150), False, 0.0),
    ("left_of-min-offset-pass", Direction("left_of", min_offset=0.1), CENTRED_HAND, around(130, 150), True, 1.0),
    ("left_of-min-offset-fail", Direction("left_of", min_offset=0.2), CENTRED_HAND, around(130, 150), False, 1.0),
    ("above-min-offset-steep", Direction("above", min_offset=0.5), CENTRED_HAND, around(80, 70), True, 0.7526),
]


@pytest.mark.parametrize(
    ("predicate", "hand", "obj", "holds", "score"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_predicate_answers(predicate: Predicate, hand: tuple, obj: tuple, holds: bool, score: float) -> None:
    got_holds, got_score = predicate.evaluate(hand, obj)
    assert (got_holds, round(got_score, 4)) == (holds, score)
    assert 0.0 <= got_score <= 1.0


@pytest.mark.parametrize(
    ("predicate", "hand", "obj", "holds", "score"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
@pytest.mark.parametrize("factor", [3.0, 0.25])
def test_predicates_do_not_depend_on_scale(
    predicate: Predicate, hand: tuple, obj: tuple, holds: bool, score: float, factor: float
) -> None:
    scaled = predicate.evaluate(tuple(v * factor for v in hand), tuple(v * factor for v in obj))
    assert scaled[0] == holds
    assert scaled[1] == pytest.approx(score, abs=1e-4)


def test_predicates_do_not_depend_on_position() -> None:
    """Shifting both boxes together changes nothing either (distances, not coordinates)."""
    for _, predicate, hand, obj, holds, score in CASES:
        shifted = predicate.evaluate(tuple(v + 1000 for v in hand), tuple(v + 1000 for v in obj))
        assert (shifted[0], round(shifted[1], 4)) == (holds, score)


# all / any: hand (0, 0, 100, 100), object (50, 0, 150, 100): overlap holds (0.5), right_of holds
# (1.0: centre (100, 50) is straight right of (50, 50)), above/below fail (0.0), near holds (1.0).
OBJ = (50.0, 0.0, 150.0, 100.0)
OV, RIGHT, ABOVE, BELOW, NEAR = (
    Overlap(min_iou=0.3),
    Direction("right_of"),
    Direction("above"),
    Direction("below"),
    Near(max_gap=0.1),
)
COMBINED = [
    ("all-true", AllOf((OV, RIGHT)), True, 0.5),
    ("all-one-false", AllOf((OV, ABOVE)), False, 0.0),
    ("any-one-true", AnyOf((OV, ABOVE)), True, 0.5),
    ("any-none-true", AnyOf((ABOVE, BELOW)), False, 0.0),
    ("any-of-all", AnyOf((AllOf((OV, RIGHT)), BELOW)), True, 0.5),
    ("all-of-any", AllOf((AnyOf((ABOVE, BELOW)), NEAR)), False, 0.0),
    ("all-of-any-true", AllOf((AnyOf((ABOVE, RIGHT)), NEAR)), True, 1.0),
    ("deep", AllOf((AnyOf((AllOf((OV, NEAR)), ABOVE)), AnyOf((BELOW, RIGHT)))), True, 0.5),
    ("single-child", AllOf((RIGHT,)), True, 1.0),
]


@pytest.mark.parametrize(("predicate", "holds", "score"), [c[1:] for c in COMBINED], ids=[c[0] for c in COMBINED])
def test_all_and_any_nest(predicate: Predicate, holds: bool, score: float) -> None:
    assert predicate.evaluate(HAND, OBJ) == (holds, score)
    scaled = predicate.evaluate(tuple(v * 3 for v in HAND), tuple(v * 3 for v in OBJ))
    assert scaled[0] == holds and scaled[1] == pytest.approx(score)


# --------------------------------------------------------------------------- the builder
BUILT = [
    ({"overlap": {"min_iou": 0.05}}, Overlap(min_iou=0.05)),
    ({"contains": None}, Contains()),
    ({"contains": {"margin": 0.1}}, Contains(margin=0.1)),
    ({"near": {"max_gap": 0.25}}, Near(max_gap=0.25)),
    ({"near": {"measure": "centers", "max_distance": 1}}, Near(measure="centers", max_distance=1)),
    ({"above": None}, Direction("above")),
    ({"left_of": {"min_offset": 0.2}}, Direction("left_of", min_offset=0.2)),
    (
        {"all": [{"overlap": {"min_iou": 0.05, "min_object_covered": 0.3}}, {"any": [{"near": {"max_gap": 0.25}}]}]},
        AllOf((Overlap(min_iou=0.05, min_object_covered=0.3), AnyOf((Near(max_gap=0.25),)))),
    ),
]


@pytest.mark.parametrize(("raw", "expected"), BUILT, ids=[next(iter(raw)) for raw, _ in BUILT])
def test_build_predicate(raw: dict, expected: Predicate) -> None:
    assert build_predicate(raw) == (expected, [])
    # to_config gives a mapping that builds the same predicate (defaults filled in)
    assert build_predicate(expected.to_config()) == (expected, [])


BUILD_ISSUES = [
    ({"near": {"max_distance": 1}}, [(("w", "near"), "max_distance does not apply to measure 'gap'; use max_gap")]),
    (
        {"near": {"measure": "centers", "max_gap": 1}},
        [(("w", "near"), "max_gap does not apply to measure 'centers'; use max_distance")],
    ),
    ({"near": {}}, [(("w", "near"), "measure 'gap' needs max_gap (a multiple of the hand box's diagonal)")]),
    ({"overlap": {}}, [(("w", "overlap"), "give min_iou, min_object_covered or both")]),
    ({"overlap": {"min_iou": 2}}, [(("w", "overlap"), "min_iou must lie in (0.0, 1.0], got 2")]),
    (
        {"any": [{"above": None}, {"near": {}}, {"contains": {"margin": -1}}]},
        [
            (("w", "any", 1, "near"), "measure 'gap' needs max_gap (a multiple of the hand box's diagonal)"),
            (("w", "any", 2, "contains"), "margin must lie in [0.0, 1.0], got -1"),
        ],
    ),
]


@pytest.mark.parametrize(("raw", "issues"), BUILD_ISSUES)
def test_build_predicate_issues(raw: dict, issues: list) -> None:
    assert build_predicate(raw, ("w",)) == (None, issues)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Overlap(), "overlap: give min_iou, min_object_covered or both"),
        (lambda: Overlap(min_iou=0.0), "overlap: min_iou must lie in (0.0, 1.0], got 0.0"),
        (lambda: Overlap(min_iou=math.nan), "overlap: min_iou must be a finite number, got nan"),
        (lambda: Contains(min_object_covered=1.5), "contains: min_object_covered must lie in (0.0, 1.0], got 1.5"),
        (lambda: Near(measure="edges", max_gap=1), "near: measure must be one of gap, centers, got 'edges'"),
        (lambda: Near(max_gap=11), "near: max_gap must lie in [0.0, 10.0], got 11"),
        (lambda: Direction("up"), "direction must be one of left_of, right_of, above, below, got 'up'"),
        (lambda: Direction("above", min_offset=True), "above: min_offset must be a finite number, got True"),
        (lambda: AllOf(()), "all: needs at least one predicate"),
        (lambda: AnyOf(()), "any: needs at least one predicate"),
    ],
)
def test_direct_construction_is_checked(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == message
