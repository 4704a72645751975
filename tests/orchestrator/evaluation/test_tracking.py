"""Ground-truth loading and tracking metrics (orchestrator.evaluation.tracking)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import shared_path

from orchestrator.errors import UserError
from orchestrator.evaluation.tracking import (
    TrackingMetrics,
    centre_distance_matrix,
    load_hand_labels,
    match_costs,
    tracking_metrics,
)


def _left(f: int):
    return (100 + 10 * f, 100, 200 + 10 * f, 200)


def _right(f: int):
    return (600, 100 + 10 * f, 700, 200 + 10 * f)


GT = {f: [("left", _left(f)), ("right", _right(f))] for f in range(4)}


def test_hand_made_case_with_known_metrics() -> None:
    x1, y1, x2, y2 = _left(0)
    predictions = {
        0: [(1, (x1 + 20, y1, x2 + 20, y2)), (2, _right(0))],  # IoU 80/120 = 2/3
        1: [(1, _left(1)), (2, _right(1))],
        2: [(2, _left(2)), (1, _right(2))],  # both ids swap: 2 switches
        3: [(2, _left(3)), (9, (1500, 900, 1600, 1000))],  # right missed, one false positive
    }
    metrics = tracking_metrics(GT, predictions, frames=range(5))  # frame 4: nothing anywhere
    # 8 gt boxes: MOTA = 1 - (1 miss + 1 FP + 2 switches) / 8. IDF1: best identity map left->1,
    # right->2 gives 4 identity-true matches; 2 * 4 / (8 gt + 8 predicted) = 0.5.
    assert metrics == TrackingMetrics(
        mota=0.5,
        idf1=0.5,
        id_switches=2,
        mostly_tracked=1,  # left matched on 4/4 frames; right on 3/4 = 75 % < 80 %
        mostly_lost=0,
        mean_iou=pytest.approx((6 + 2 / 3) / 7),
        frames=5,
        false_positives=1,
        misses=1,
        gt_tracks=2,
    )
    assert metrics.to_dict() == {
        "mota": 0.5,
        "idf1": 0.5,
        "id_switches": 2,
        "mostly_tracked": 1,
        "mostly_lost": 0,
        "mean_iou": 0.9524,
        "frames": 5,
        "false_positives": 1,
        "misses": 1,
        "gt_tracks": 2,
        "match": "iou",
        "min_iou": 0.5,
        "side_accuracy": None,
        "side_pairs": 0,
    }


@pytest.mark.parametrize(
    ("min_iou", "mota", "mean_iou", "false_positives", "misses"),
    [(0.5, -1.0, None, 1, 1), (0.3, 1.0, 1 / 3, 0, 0)],
)
def test_min_iou_gate(min_iou, mota, mean_iou, false_positives, misses) -> None:
    gt = {0: [("left", (0, 0, 100, 100))]}
    predictions = {0: [(5, (50, 0, 150, 100))]}  # IoU 50 / 150
    metrics = tracking_metrics(gt, predictions, frames=[0], min_iou=min_iou)
    assert (metrics.mota, metrics.false_positives, metrics.misses) == (mota, false_positives, misses)
    assert metrics.mean_iou == (None if mean_iou is None else pytest.approx(mean_iou))


def test_frames_outside_the_selection_are_ignored_and_unseen_hand_is_mostly_lost() -> None:
    predictions = {f: [(1, _left(f))] for f in range(4)}
    metrics = tracking_metrics(GT, predictions, frames=[0, 1, 2, 3, 7])
    assert (metrics.mota, metrics.idf1) == (0.5, pytest.approx(2 * 4 / (8 + 4)))
    assert (metrics.mostly_tracked, metrics.mostly_lost, metrics.frames) == (1, 1, 5)
    only_two = tracking_metrics(GT, {}, frames=[0, 1])
    assert (only_two.misses, only_two.mota, only_two.mean_iou, only_two.mostly_lost) == (4, 0.0, None, 2)


def test_no_ground_truth_gives_undefined_mota() -> None:
    metrics = tracking_metrics({}, {0: [(1, (0, 0, 10, 10))]}, frames=[0, 1])
    assert (metrics.mota, metrics.false_positives, metrics.gt_tracks) == (None, 1, 0)
    empty = tracking_metrics({}, {}, frames=[])
    assert (empty.frames, empty.mota, empty.idf1) == (0, None, None)


def test_duplicate_ids_on_a_frame_are_rejected() -> None:
    with pytest.raises(ValueError, match="frame 0: a track id appears twice"):
        tracking_metrics(GT, {0: [(1, _left(0)), (1, _right(0))]}, frames=[0])


# ----------------------------------------------------------------------------- centre rule
# A 6 x 8 label: centre (3, 4), diagonal 10, so the gate is a circle of radius 5 around (3, 4).
LABEL = (0.0, 0.0, 6.0, 8.0)


def _box_at(cx: float, cy: float, w: float = 2.0, h: float = 2.0):
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def test_centre_distance_is_normalised_by_half_the_label_diagonal() -> None:
    boxes = [_box_at(3, 4), _box_at(6, 8), _box_at(8, 4), _box_at(8.5, 4), _box_at(3, -1.5)]
    distances = centre_distance_matrix([LABEL], boxes)
    assert distances.tolist() == [[0.0, 1.0, 1.0, 1.1, 1.1]]
    # Its own size does not matter: only the predicted box's centre.
    assert centre_distance_matrix([LABEL], [_box_at(6, 8, w=100, h=1)]).tolist() == [[1.0]]
    # A zero-size label matches only a centre on its very point.
    assert centre_distance_matrix([(5, 5, 5, 5)], [_box_at(5, 5), _box_at(5, 6)]).tolist() == [[0.0, float("inf")]]
    assert centre_distance_matrix([], [_box_at(0, 0)]).shape == (0, 1)


def test_centre_gate_includes_its_boundary_and_nothing_beyond() -> None:
    costs = match_costs([LABEL], [_box_at(6, 8), _box_at(8.5, 4)], match="centre")
    assert costs[0, 0] == 1.0 and np.isnan(costs[0, 1])
    with pytest.raises(ValueError, match="match must be one of iou, centre"):
        match_costs([LABEL], [LABEL], match="center")


@pytest.mark.parametrize(
    ("centre", "matched", "iou"),
    [
        ((6.0, 8.0), True, 1 / 51),  # distance exactly 5 (3-4-5): on the gate, inside
        ((8.0, 4.0), True, 0.0),  # on the gate, boxes apart: IoU 0 and still a match
        ((3.0, 9.0), True, 0.0),
        ((8.5, 4.0), False, None),  # 5.5 / 5 = 1.1: outside
        ((6.0, 8.01), False, None),  # just beyond the gate
    ],
)
def test_centre_rule_at_the_gate(centre, matched, iou) -> None:
    gt = {0: [("left", LABEL)]}
    box = _box_at(*centre)  # 2 x 2: IoU with the label at most 4 / 48, never a match under IoU >= 0.5
    metrics = tracking_metrics(gt, {0: [(1, box)]}, frames=[0], match="centre")
    assert (metrics.match, metrics.min_iou) == ("centre", None)
    if matched:
        assert (metrics.mota, metrics.idf1, metrics.misses, metrics.false_positives) == (1.0, 1.0, 0, 0)
        # mean_iou is the boxes' IoU under either rule, not the centre distance.
    else:
        assert (metrics.mota, metrics.idf1, metrics.misses, metrics.false_positives) == (-1.0, 0.0, 1, 1)
    assert metrics.mean_iou == (None if iou is None else pytest.approx(iou))
    iou_rule = tracking_metrics(gt, {0: [(1, box)]}, frames=[0])
    assert (iou_rule.match, iou_rule.min_iou, iou_rule.misses) == ("iou", 0.5, 1)


def test_centre_rule_counts_switches() -> None:
    # Each track is 5 px from its own label's centre and 195 px (> the 70.7 px half-diagonal) from the other's.
    gt = {f: [("left", (0, 0, 100, 100)), ("right", (200, 0, 300, 100))] for f in range(3)}
    near_left, near_right = (5, 0, 105, 100), (195, 0, 295, 100)
    predictions = {
        0: [(1, near_left), (2, near_right)],
        1: [(1, near_left), (2, near_right)],
        2: [(2, near_left), (1, near_right)],  # the ids swap on frame 2
    }
    metrics = tracking_metrics(gt, predictions, frames=range(3), match="centre")
    # 6 gt boxes, 6 matches, 2 switches: MOTA = 1 - 2 / 6; IDF1 = 2 * 4 / 12.
    assert (metrics.mota, metrics.id_switches) == (pytest.approx(2 / 3), 2)
    assert metrics.idf1 == pytest.approx(2 / 3)
    assert metrics.mean_iou == pytest.approx(95 / 105)


def test_centre_rule_keeps_a_correspondence_while_it_stays_inside_the_gate() -> None:
    # CLEAR-MOT: a previous match is kept while still inside the gate, even when a swap would cost less.
    gt = {f: [("left", (0, 0, 100, 100)), ("right", (60, 0, 160, 100))] for f in range(2)}
    a, b = (5, 0, 105, 100), (55, 0, 155, 100)
    predictions = {0: [(1, a), (2, b)], 1: [(2, a), (1, b)]}  # on frame 1 both are in both gates
    metrics = tracking_metrics(gt, predictions, frames=range(2), match="centre")
    assert (metrics.mota, metrics.idf1, metrics.id_switches) == (1.0, 1.0, 0)


# ----------------------------------------------------------------------------- sides
def test_side_accuracy_over_matched_pairs_with_one_wrong_side() -> None:
    predictions = {
        0: [(1, _left(0), "left"), (2, _right(0), "right")],
        1: [(1, _left(1), "left"), (2, _right(1), "left")],  # the one wrong side
        2: [(1, _left(2), "left"), (2, _right(2), None)],  # no side: not counted
        3: [(1, _left(3), "LEFT"), (9, (1500, 900, 1600, 1000), "right")],  # unmatched: not counted
    }
    metrics = tracking_metrics(GT, predictions, frames=range(4), match="centre")
    assert (metrics.side_pairs, metrics.side_accuracy) == (6, 5 / 6)
    assert metrics.to_dict()["side_accuracy"] == 0.8333
    # The side does not change the matching.
    plain = {f: [(h[0], h[1]) for h in rows] for f, rows in predictions.items()}
    unsided = tracking_metrics(GT, plain, frames=range(4), match="centre")
    assert (unsided.mota, unsided.idf1) == (metrics.mota, metrics.idf1)


def test_no_sides_gives_null_side_accuracy() -> None:
    predictions = {f: [(1, _left(f)), (2, _right(f), None)] for f in range(4)}
    metrics = tracking_metrics(GT, predictions, frames=range(4))
    assert (metrics.side_accuracy, metrics.side_pairs) == (None, 0)
    assert metrics.to_dict()["side_accuracy"] is None
    assert tracking_metrics({}, {}, frames=[]).side_accuracy is None


def test_unknown_match_rule_is_rejected() -> None:
    with pytest.raises(ValueError, match="match must be one of"):
        tracking_metrics(GT, {}, frames=[0], match="giou")


# ----------------------------------------------------------------------------- CSV loading
def test_load_hand_labels(tmp_path: Path) -> None:
    path = tmp_path / "clip_hands.csv"
    path.write_text(
        "frame,hand,xmin,ymin,xmax,ymax,joint_confidence,visible_fraction\n"
        "1,right,10,20,30,40,0.5,1.0\n"
        "0,left,1.5,2,3,4,0.5,1.0\n"
        "\n"
        "1,left,5,6,7,8,,\n"
    )
    assert load_hand_labels(path) == {
        0: [("left", (1.5, 2.0, 3.0, 4.0))],
        1: [("right", (10.0, 20.0, 30.0, 40.0)), ("left", (5.0, 6.0, 7.0, 8.0))],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ":1: empty file"),
        ("frame,hand,xmin,ymin,xmax\n", ":1: missing column(s) ymax"),
        ("frame,hand,xmin,ymin,xmax,ymax\n0,left,1,2,3,4\nx,left,1,2,3,4\n", ":3: frame must be an integer, got 'x'"),
        ("frame,hand,xmin,ymin,xmax,ymax\n-1,left,1,2,3,4\n", ":2: frame must be >= 0, got -1"),
        ("frame,hand,xmin,ymin,xmax,ymax\n0,,1,2,3,4\n", ":2: empty hand identity"),
        ("frame,hand,xmin,ymin,xmax,ymax\n0,left,1,two,3,4\n", ":2: ymin must be a number, got 'two'"),
        ("frame,hand,xmin,ymin,xmax,ymax\n0,left,1,2,3,inf\n", ":2: ymax must be finite"),
        ("frame,hand,xmin,ymin,xmax,ymax\n0,left,5,2,3,4\n", ":2: box must satisfy xmax >= xmin"),
        ("frame,hand,xmin,ymin,xmax,ymax\n0,left,1,2,3\n", ":2: expected 6 columns, got 5"),
        (
            "frame,hand,xmin,ymin,xmax,ymax\n0,left,1,2,3,4\n0,left,1,2,3,4\n",
            ":3: hand 'left' appears twice on frame 0",
        ),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad_hands.csv"
    path.write_text(text)
    with pytest.raises(UserError) as info:
        load_hand_labels(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"cannot read hand labels .*nope_hands\.csv"):
        load_hand_labels(tmp_path / "nope_hands.csv")


def test_egodex_labels_load_and_score_perfectly_against_themselves() -> None:
    paths = sorted(shared_path("data/egodex").glob("*_hands.csv"))
    assert len(paths) == 3, paths  # a missing label file must fail, not pass by checking nothing
    for path in paths:
        labels = load_hand_labels(path)
        ids = {hand: i for i, hand in enumerate(sorted({h for rows in labels.values() for h, _ in rows}), 1)}
        predictions = {f: [(ids[h], box) for h, box in rows] for f, rows in labels.items()}
        metrics = tracking_metrics(labels, predictions, frames=range(max(labels) + 1))
        assert (metrics.mota, metrics.idf1, metrics.id_switches, metrics.mean_iou) == (1.0, 1.0, 0, 1.0), path


def test_egodex_labels_score_perfectly_against_themselves_under_the_centre_rule() -> None:
    path = shared_path("data/egodex/add_remove_lid_0_hands.csv")
    labels = load_hand_labels(path)
    ids = {"left": 1, "right": 2}
    predictions = {f: [(ids[h], box, h) for h, box in rows] for f, rows in labels.items()}
    metrics = tracking_metrics(labels, predictions, frames=range(max(labels) + 1), match="centre")
    boxes = sum(len(rows) for rows in labels.values())
    assert metrics.match == "centre" and boxes > 0
    assert (metrics.mota, metrics.idf1, metrics.id_switches, metrics.mean_iou) == (1.0, 1.0, 0, 1.0)
    hands = {h for rows in labels.values() for h, _ in rows}
    assert (metrics.misses, metrics.false_positives, metrics.gt_tracks) == (0, 0, len(hands))
    assert (metrics.side_accuracy, metrics.side_pairs) == (1.0, boxes)
