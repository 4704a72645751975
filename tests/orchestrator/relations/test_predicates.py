"""Relation predicates: exact answers, scale independence, directions, all/any nesting, the builder;
the contact predicates (fingertips_in, grasp, moves_with) alone and through the engine."""

from __future__ import annotations

import math

import pytest

from detectors.detections import HAND_KEYPOINT_NAMES
from orchestrator.relations.engine import RelationEngine
from orchestrator.relations.predicates import (
    AllOf,
    AnyOf,
    Contains,
    Direction,
    FingertipsIn,
    Grasp,
    MovesWith,
    Near,
    Overlap,
    PairContext,
    Predicate,
    build_predicate,
    history_frames,
)
from orchestrator.relations.schema import schema_issues
from orchestrator.relations.spec import parse_relations
from trackers.track import Track

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


# --------------------------------------------------------------------------- contact predicates (keypoints, motion)
# A 30x40 hand box (diagonal 50), so margins are exact: margin 0.1 grows a box by 5 px.
HAND_3_4 = (0.0, 0.0, 30.0, 40.0)
CUP = (20.0, 10.0, 40.0, 30.0)  # 20x20, centre (30, 20); grown by 5 px: (15, 5, 45, 35)
WIDE = (20.0, 10.0, 60.0, 30.0)  # 40x20: wider along x, centre (40, 20)
TALL = (20.0, 0.0, 40.0, 40.0)  # 20x40: wider along y, centre (30, 20)
FAR = (200.0, 200.0)  # a fingertip nowhere near anything


def tips(*points: tuple[float, float]) -> PairContext:
    """A context with the five fingertips, thumb first; unnamed ones are FAR."""
    return PairContext.of_fingertips([*points, *[FAR] * (5 - len(points))])


def mediapipe_hand(
    track_id: int, box: tuple, tip_points: list[tuple[float, float]] | None, source: str = "observed"
) -> Track:
    """A hand track with MediaPipe's 21 keypoints (all at the box centre but the five tips), or without any."""
    if tip_points is None:
        return Track(track_id, box, 0.9, "hand", 0)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    points = [(cx, cy, 0.0)] * len(HAND_KEYPOINT_NAMES)
    for index, (x, y) in zip((4, 8, 12, 16, 20), tip_points, strict=True):
        points[index] = (x, y, 0.0)
    predicted = source == "predicted"
    return Track(
        track_id,
        box,
        0.9,
        "hand",
        0,
        box_source="predicted" if predicted else "observed",
        frames_since_observed=1 if predicted else 0,
        age_frames=1 if predicted else 0,
        keypoints=tuple(points),
        keypoint_names=HAND_KEYPOINT_NAMES,
        keypoints_source=source,
    )


# (id, predicate, hand box, object box, context, holds, score rounded to 1e-4)
CONTACT_CASES: list[tuple[str, Predicate, tuple, tuple, PairContext | None, bool, float]] = [
    # fingertips_in, margin 0.1 -> the cup grown to (15, 5, 45, 35); edges count as inside
    ("tips-two-inside", FingertipsIn(margin=0.1), HAND_3_4, CUP, tips((25, 20), (35, 20)), True, 0.4),
    ("tips-one-inside", FingertipsIn(margin=0.1), HAND_3_4, CUP, tips((25, 20)), False, 0.2),
    ("tips-at-grown-edge", FingertipsIn(margin=0.1), HAND_3_4, CUP, tips((45, 20), (15, 35)), True, 0.4),
    ("tips-just-past-edge", FingertipsIn(margin=0.1), HAND_3_4, CUP, tips((45.01, 20), (15, 35)), False, 0.2),
    ("tips-past-top-edge", FingertipsIn(margin=0.1), HAND_3_4, CUP, tips((30, 4.99), (30, 35.01)), False, 0.0),
    ("tips-in-margin-only", FingertipsIn(margin=0.1), HAND_3_4, CUP, tips((17, 20), (43, 20)), True, 0.4),
    ("tips-no-margin", FingertipsIn(margin=0.0), HAND_3_4, CUP, tips((17, 20), (43, 20)), False, 0.0),
    ("tips-default-margin", FingertipsIn(), HAND_3_4, CUP, tips((17.5, 20), (42.5, 20)), True, 0.4),  # 2.5 px
    ("tips-all-five", FingertipsIn(min_tips=5, margin=0.0), HAND_3_4, CUP, tips(*[(30, 20)] * 5), True, 1.0),
    ("tips-four-of-five", FingertipsIn(min_tips=5, margin=0.0), HAND_3_4, CUP, tips(*[(30, 20)] * 4), False, 0.8),
    ("tips-min-one", FingertipsIn(min_tips=1, margin=0.0), HAND_3_4, CUP, tips(FAR, FAR, (30, 20)), True, 0.2),
    ("tips-no-context", FingertipsIn(), HAND_3_4, CUP, None, False, 0.0),
    ("tips-no-keypoints", FingertipsIn(min_tips=1), HAND_3_4, CUP, PairContext(), False, 0.0),
    # grasp on WIDE (wider along x, centre x 40; level: y within the grown band [5, 35])
    ("grasp-opposite-sides", Grasp(margin=0.1), HAND_3_4, WIDE, tips((12, 20), (68, 20)), True, 0.94),
    ("grasp-opposite-other-finger", Grasp(margin=0.1), HAND_3_4, WIDE, tips((30, 20), FAR, FAR, (50, 25)), True, 1.0),
    ("grasp-same-side-outside", Grasp(margin=0.1), HAND_3_4, WIDE, tips((10, 20), (12, 20)), False, 0.9),
    ("grasp-opposite-not-level", Grasp(margin=0.1), HAND_3_4, WIDE, tips((30, 40), (50, 20)), False, 0.9),
    ("grasp-on-the-centre", Grasp(margin=0.0), HAND_3_4, WIDE, tips((40, 50), (40, 0)), False, 0.6),
    ("grasp-both-inside", Grasp(margin=0.0), HAND_3_4, WIDE, tips((25, 15), (30, 25)), True, 1.0),
    ("grasp-both-in-margin", Grasp(margin=0.1), HAND_3_4, WIDE, tips((22, 6), (24, 7)), True, 1.0),
    ("grasp-thumb-alone", Grasp(margin=0.0), HAND_3_4, WIDE, tips((30, 20)), False, 0.0),
    ("grasp-no-thumb", Grasp(margin=0.0), HAND_3_4, WIDE, tips(FAR, (30, 20), (35, 20)), False, 0.0),
    # TALL is wider along y (centre y 20): thumb above the centre, finger below, both level in x
    ("grasp-tall-opposite", Grasp(margin=0.0), HAND_3_4, TALL, tips((30, -5), (30, 45)), True, 0.9),
    ("grasp-tall-x-sides-no", Grasp(margin=0.0), HAND_3_4, TALL, tips((15, 20), (45, 20)), False, 0.9),
    ("grasp-no-keypoints", Grasp(), HAND_3_4, CUP, None, False, 0.0),
]


@pytest.mark.parametrize(
    ("predicate", "hand", "obj", "context", "holds", "score"),
    [c[1:] for c in CONTACT_CASES],
    ids=[c[0] for c in CONTACT_CASES],
)
def test_contact_predicate_answers(
    predicate: Predicate, hand: tuple, obj: tuple, context: PairContext | None, holds: bool, score: float
) -> None:
    got_holds, got_score = predicate.evaluate(hand, obj, context)
    assert (got_holds, round(got_score, 4)) == (holds, score)
    assert 0.0 <= got_score <= 1.0


def _moved(context: PairContext | None, factor: float, shift: float) -> PairContext | None:
    if context is None:
        return None

    def move(points: tuple) -> tuple:
        return tuple(tuple(v * factor + shift for v in p[:2]) + tuple(p[2:]) for p in points)

    keypoints = None if context.keypoints is None else move(context.keypoints)
    return PairContext(keypoints, context.keypoint_names, move(context.hand_centres), move(context.object_centres))


@pytest.mark.parametrize(
    ("predicate", "hand", "obj", "context", "holds", "score"),
    [c[1:] for c in CONTACT_CASES],
    ids=[c[0] for c in CONTACT_CASES],
)
@pytest.mark.parametrize(("factor", "shift"), [(4.0, 0.0), (0.5, 0.0), (1.0, 1000.0)])
def test_contact_predicates_do_not_depend_on_scale_or_position(
    predicate: Predicate,
    hand: tuple,
    obj: tuple,
    context: PairContext | None,
    holds: bool,
    score: float,
    factor: float,
    shift: float,
) -> None:
    def box(b: tuple) -> tuple:
        return tuple(v * factor + shift for v in b)

    got = predicate.evaluate(box(hand), box(obj), _moved(context, factor, shift))
    assert got[0] == holds
    assert got[1] == pytest.approx(score, abs=1e-4)


def test_fingertips_come_by_name_or_in_mediapipe_order() -> None:
    hand = mediapipe_hand(1, HAND_3_4, [(25, 20), (35, 20), FAR, FAR, FAR])
    named = PairContext(hand.keypoints, hand.keypoint_names)
    unnamed = PairContext(hand.keypoints)  # 21 keypoints without names: MediaPipe's order
    assert named.fingertips() == unnamed.fingertips() == ((25, 20), (35, 20), FAR, FAR, FAR)
    assert FingertipsIn(margin=0.0).evaluate(HAND_3_4, CUP, unnamed) == (True, 0.4)
    # keypoints of some other model (no fingertip names, not 21): nothing to look at
    other = PairContext(((25.0, 20.0, 0.0),) * 17, tuple(f"k{i}" for i in range(17)))
    assert other.fingertips() is None
    assert FingertipsIn(min_tips=1).evaluate(HAND_3_4, CUP, other) == (False, 0.0)
    assert Grasp().evaluate(HAND_3_4, CUP, PairContext(((25.0, 20.0, 0.0),) * 5)) == (False, 0.0)


# moves_with: a hand (diagonal 50) moving 10 px a frame to the right
def track_centres(step: tuple[float, float], frames: int, start: tuple[float, float] = (0.0, 0.0)) -> tuple:
    return tuple((start[0] + step[0] * i, start[1] + step[1] * i) for i in range(frames))


RIGHT_10 = track_centres((10, 0), 6)  # 5 frames of motion: 50 px
MOVES = MovesWith()  # window 5, cosine >= 0.8, ratio in [0.5, 2], hand >= 0.1 x 50 = 5 px

MOTION_CASES = [
    ("carried", MOVES, RIGHT_10, track_centres((10, 0), 6, (20, 5)), True, 1.0),
    ("carried-lagging", MOVES, RIGHT_10, track_centres((6, 0), 6), True, 0.6),  # r = 0.6
    ("carried-at-ratio-limit", MOVES, RIGHT_10, track_centres((5, 0), 6), True, 0.5),  # r = 0.5
    ("carried-below-ratio", MOVES, RIGHT_10, track_centres((4, 0), 6), False, 0.4),
    ("carried-too-fast", MOVES, RIGHT_10, track_centres((21, 0), 6), False, 0.4762),  # r = 2.1
    ("static-object", MOVES, RIGHT_10, track_centres((0, 0), 6, (30, 20)), False, 0.0),
    ("object-drifts-away", MOVES, RIGHT_10, track_centres((0, 10), 6), False, 0.0),  # cosine 0
    ("object-opposite", MOVES, RIGHT_10, track_centres((-10, 0), 6), False, 0.0),
    ("angle-cos-0.8", MOVES, RIGHT_10, track_centres((8, 6), 6), True, 0.8),  # cosine 0.8, r = 1
    ("angle-too-wide", MOVES, RIGHT_10, track_centres((7, 7.2), 6), False, 0.6942),  # cos 0.697, r 1.004
    ("lower-cosine", MovesWith(min_cosine=0.6), RIGHT_10, track_centres((7, 7.2), 6), True, 0.6942),
    ("hand-still", MOVES, track_centres((0.9, 0), 6), track_centres((0.9, 0), 6), False, 0.0),  # 4.5 < 5 px
    ("hand-at-min-motion", MOVES, track_centres((1, 0), 6), track_centres((1, 0), 6), True, 1.0),  # 5 px
    ("hand-not-moving", MOVES, track_centres((0, 0), 6), track_centres((0, 0), 6), False, 0.0),
    ("history-too-short", MOVES, RIGHT_10[:5], RIGHT_10[:5], False, 0.0),
    ("object-history-short", MOVES, RIGHT_10, RIGHT_10[:5], False, 0.0),
    ("window-2-only-recent", MovesWith(window_frames=2), track_centres((0, 0), 3) + RIGHT_10[:3], RIGHT_10, True, 1.0),
    ("no-context", MOVES, None, None, False, 0.0),
]


@pytest.mark.parametrize(
    ("predicate", "hand_centres", "object_centres", "holds", "score"),
    [c[1:] for c in MOTION_CASES],
    ids=[c[0] for c in MOTION_CASES],
)
def test_moves_with_answers(
    predicate: MovesWith, hand_centres: tuple | None, object_centres: tuple | None, holds: bool, score: float
) -> None:
    context = None if hand_centres is None else PairContext(hand_centres=hand_centres, object_centres=object_centres)
    got = predicate.evaluate(HAND_3_4, CUP, context)
    assert (got[0], round(got[1], 4)) == (holds, score)
    moved = predicate.evaluate(tuple(v * 3 + 7 for v in HAND_3_4), CUP, _moved(context, 3.0, 7.0))
    assert moved[0] == holds and moved[1] == pytest.approx(score, abs=1e-4)


def test_history_frames_is_the_longest_window() -> None:
    assert history_frames(Overlap(min_iou=0.1)) == 0
    assert history_frames(MovesWith()) == 5
    nested = AllOf((FingertipsIn(), AnyOf((MovesWith(window_frames=3), AllOf((MovesWith(window_frames=9),))))))
    assert history_frames(nested) == 9


def test_box_predicates_ignore_the_context() -> None:
    context = tips((25, 20), (35, 20))
    for _, predicate, hand, obj, holds, score in CASES:
        got = predicate.evaluate(hand, obj, context)
        assert (got[0], round(got[1], 4)) == (holds, score)


CONTACT_BUILT = [
    ({"fingertips_in": None}, FingertipsIn()),
    ({"fingertips_in": {"min_tips": 3, "margin": 0}}, FingertipsIn(min_tips=3, margin=0)),
    ({"grasp": None}, Grasp()),
    ({"grasp": {"margin": 0.2}}, Grasp(margin=0.2)),
    ({"moves_with": None}, MovesWith()),
    (
        {"moves_with": {"window_frames": 3, "min_cosine": 0.5, "min_length_ratio": 0.3, "max_length_ratio": 3}},
        MovesWith(window_frames=3, min_cosine=0.5, min_length_ratio=0.3, max_length_ratio=3),
    ),
    (
        {"all": [{"grasp": None}, {"moves_with": {"min_hand_motion": 0.2}}]},
        AllOf((Grasp(), MovesWith(min_hand_motion=0.2))),
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CONTACT_BUILT, ids=[str(raw) for raw, _ in CONTACT_BUILT])
def test_build_contact_predicate(raw: dict, expected: Predicate) -> None:
    assert build_predicate(raw) == (expected, [])
    assert build_predicate(expected.to_config()) == (expected, [])


def test_build_reports_what_the_schema_cannot_say() -> None:
    raw = {"moves_with": {"min_length_ratio": 3, "max_length_ratio": 2}}
    assert build_predicate(raw, ("w",)) == (
        None,
        [(("w", "moves_with"), "min_length_ratio 3 exceeds max_length_ratio 2")],
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FingertipsIn(min_tips=0), "fingertips_in: min_tips must be an integer in [1, 5], got 0"),
        (lambda: FingertipsIn(min_tips=2.0), "fingertips_in: min_tips must be an integer in [1, 5], got 2.0"),
        (lambda: FingertipsIn(min_tips=True), "fingertips_in: min_tips must be an integer in [1, 5], got True"),
        (lambda: FingertipsIn(margin=-0.1), "fingertips_in: margin must lie in [0.0, 1.0], got -0.1"),
        (lambda: Grasp(margin=2), "grasp: margin must lie in [0.0, 1.0], got 2"),
        (lambda: MovesWith(window_frames=0), "moves_with: window_frames must be an integer in [1, 300], got 0"),
        (lambda: MovesWith(min_cosine=-2), "moves_with: min_cosine must lie in [-1.0, 1.0], got -2"),
        (lambda: MovesWith(min_length_ratio=0), "moves_with: min_length_ratio must lie in (0.0, 100], got 0"),
        (lambda: MovesWith(min_hand_motion=math.inf), "moves_with: min_hand_motion must be a finite number, got inf"),
        (
            lambda: MovesWith(min_length_ratio=1.5, max_length_ratio=1.2),
            "moves_with: min_length_ratio 1.5 exceeds max_length_ratio 1.2",
        ),
    ],
)
def test_contact_predicates_are_checked_on_construction(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == message


# --------------------------------------------------------------------------- through the engine
def engine_for(when: dict, **relation: object) -> RelationEngine:
    raw = {"objects": {"detector": "objects"}, "report": {"r": {"when": when, "enter_frames": 2, **relation}}}
    assert schema_issues(raw) == []
    spec, issues = parse_relations(raw, ["hands", "objects"])
    assert issues == [] and spec is not None
    return RelationEngine(spec, fps=10)


def starts(records: list) -> list[tuple[str, int]]:
    return [(r.type, r.frame) for r in records]


def test_fingertips_in_starts_only_when_the_tips_are_on_the_object() -> None:
    """The hand box covers the cup on every frame; the relation starts once two tips are on it."""
    engine = engine_for({"fingertips_in": {"min_tips": 2, "margin": 0.0}})
    hand_box = (0.0, 0.0, 60.0, 80.0)  # covers CUP entirely: box predicates would hold throughout
    cup = Track(7, CUP, 0.5, "cup", 41)
    away = [(5, 70), (10, 75), (15, 75), (20, 75), (25, 75)]
    one_on = [(30, 20), (10, 75), (15, 75), (20, 75), (25, 75)]
    two_on = [(30, 20), (35, 25), (15, 75), (20, 75), (25, 75)]
    frames = [away, away, one_on, two_on, two_on, two_on]
    log = []
    for frame, points in enumerate(frames):
        log += [
            (frame, *x) for x in starts(engine.update(frame, frame / 10, [mediapipe_hand(1, hand_box, points)], [cup]))
        ]
    assert log == [(4, "relation.start", 3)]  # onset on frame 3, confirmed on frame 4 (enter_frames 2)
    # the same frames from a box-only hand (no keypoints): never starts, box predicates unaffected
    engine = engine_for({"fingertips_in": None})
    for frame in range(len(frames)):
        assert engine.update(frame, frame / 10, [mediapipe_hand(1, hand_box, None)], [cup]) == []
    engine = engine_for({"contains": None})
    records = [engine.update(f, f / 10, [mediapipe_hand(1, hand_box, None)], [cup]) for f in range(3)]
    assert [starts(r) for r in records] == [[], [("relation.start", 0)], []]


def test_predicted_keypoints_count() -> None:
    engine = engine_for({"grasp": {"margin": 0.0}})
    hand_box = (0.0, 0.0, 60.0, 80.0)
    cup = Track(7, WIDE, 0.5, "cup", 41)
    hands = [
        mediapipe_hand(1, hand_box, [(15, 20), (65, 20), FAR, FAR, FAR], "observed"),
        mediapipe_hand(1, hand_box, [(15, 20), (65, 20), FAR, FAR, FAR], "predicted"),
    ]
    assert engine.update(0, 0.0, [hands[0]], [cup]) == []
    assert starts(engine.update(1, 0.1, [hands[1]], [cup])) == [("relation.start", 0)]


def test_moves_with_through_the_engine_carried_versus_static() -> None:
    """A hand carries one cup past another: it starts for the carried cup only, after 3 frames of motion."""
    engine = engine_for({"moves_with": {"window_frames": 3}}, enter_frames=1)
    log = []
    for frame in range(7):
        x = 10.0 * frame
        hand = Track(1, (x, 0.0, x + 30.0, 40.0), 0.9, "hand", 0)
        carried = Track(5, (x + 20.0, 10.0, x + 40.0, 30.0), 0.5, "cup", 41)
        static = Track(6, (100.0, 10.0, 120.0, 30.0), 0.5, "cup", 41)
        log += [
            (frame, r.type, r.object_id, r.frame) for r in engine.update(frame, frame / 10, [hand], [carried, static])
        ]
    assert log == [(3, "relation.start", 5, 3)]  # frame 3: the first with 3 frames of history behind it


def test_moves_with_history_starts_over_when_a_track_goes_missing() -> None:
    engine = engine_for({"moves_with": {"window_frames": 2}}, enter_frames=1)
    log = []
    for frame in range(7):
        x = 10.0 * frame
        hand = Track(1, (x, 0.0, x + 30.0, 40.0), 0.9, "hand", 0)
        cup = Track(5, (x + 20.0, 10.0, x + 40.0, 30.0), 0.5, "cup", 41)
        objects = [] if frame == 3 else [cup]  # the cup's track is not reported on frame 3
        log += [(frame, r.type) for r in engine.update(frame, frame / 10, [hand], objects)]
    assert log == [(2, "relation.start"), (3, "relation.end"), (6, "relation.start")]
    engine.reset()
    assert engine._hand_centres == {} and engine._object_centres == {}


@pytest.mark.parametrize(
    ("keys", "started"),
    [
        ({}, True),
        ({"min_object_score": 0.5}, True),  # at the limit
        ({"min_object_score": 0.51}, False),
        ({"min_object_size": 0.4}, True),  # cup diagonal 28.28 / hand diagonal 50 = 0.566
        ({"min_object_size": 0.6}, False),
    ],
)
def test_relations_can_require_object_score_and_size(keys: dict, started: bool) -> None:
    engine = engine_for({"overlap": {"min_object_covered": 0.5}}, **keys)
    hand, cup = Track(1, HAND_3_4, 0.9, "hand", 0), Track(7, CUP, 0.5, "cup", 41)
    records = engine.update(0, 0.0, [hand], [cup]) + engine.update(1, 0.1, [hand], [cup])
    assert bool(records) == started
    relation = engine.spec.relations[0]
    assert {k: v for k, v in relation.to_config().items() if k.startswith("min_object")} == keys
    assert parse_relations(engine.spec.to_dict(), ["hands", "objects"]) == (engine.spec, [])
