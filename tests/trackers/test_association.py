"""IoU / Hungarian matching and the two-pass (ByteTrack-style) association."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.tracker_scenarios import dets

from detectors.detections import Detections
from trackers.association import associate, match_by_iou


# ----------------------------------------------------------------------------- Hungarian with a gate
@pytest.mark.parametrize(
    ("iou", "min_iou", "matches", "rows", "cols"),
    [
        ([[0.9, 0.1], [0.6, 0.0]], 0.3, [(0, 0)], [1], [1]),
        ([[0.9, 0.8], [0.8, 0.1]], 0.3, [(0, 1), (1, 0)], [], []),  # global optimum, not greedy
        ([[0.29, 0.3]], 0.3, [(0, 1)], [], [0]),  # the gate is inclusive
        ([[0.2, 0.1]], 0.3, [], [0], [0, 1]),
        (np.zeros((0, 2)), 0.3, [], [], [0, 1]),
        (np.zeros((2, 0)), 0.3, [], [0, 1], []),
    ],
)
def test_match_by_iou(iou, min_iou, matches, rows, cols) -> None:
    assert match_by_iou(np.asarray(iou, dtype=float), min_iou) == (matches, rows, cols)


# ----------------------------------------------------------------------------- two passes
TRACKS = [(0, 0, 100, 100), (300, 0, 400, 100), (600, 0, 700, 100)]


@pytest.mark.parametrize(
    ("scores", "second_pass", "matches", "unmatched_tracks", "unmatched_dets"),
    [
        ([0.9, 0.9, 0.9], None, ((0, 0), (1, 1), (2, 2)), (), ()),
        ([0.9, 0.3, 0.9], None, ((0, 0), (1, 1), (2, 2)), (), ()),  # low score extends track 1
        ([0.9, 0.3, 0.05], None, ((0, 0), (1, 1)), (2,), ()),  # below low_score: ignored
        ([0.9, 0.3, 0.3], [True, False, True], ((0, 0), (2, 2)), (1,), ()),  # track 1 tentative
        ([0.3, 0.3, 0.3], None, ((0, 0), (1, 1), (2, 2)), (), ()),
    ],
)
def test_two_pass_association(scores, second_pass, matches, unmatched_tracks, unmatched_dets) -> None:
    shifted = [(x1 + 5, y1, x2 + 5, y2) for x1, y1, x2, y2 in TRACKS]
    result = associate(
        TRACKS, dets(*shifted, score=scores), min_iou=0.3, high_score=0.5, low_score=0.1, second_pass=second_pass
    )
    assert (result.matches, result.unmatched_tracks, result.unmatched_detections) == (
        matches,
        unmatched_tracks,
        unmatched_dets,
    )


def test_high_score_detections_win_before_low_ones() -> None:
    # Both detections overlap the track; the low-score one overlaps more but may only take leftovers.
    track = [(0, 0, 100, 100)]
    detections = dets((0, 0, 100, 100), (30, 0, 130, 100), score=[0.3, 0.9])
    result = associate(track, detections, min_iou=0.3, high_score=0.5, low_score=0.1)
    assert result.matches == ((0, 1),)
    assert result.unmatched_detections == ()  # the low one is not a new-track candidate


def test_unmatched_high_detections_are_new_track_candidates() -> None:
    result = associate(
        [], dets((0, 0, 10, 10), (50, 50, 60, 60), score=[0.9, 0.2]), min_iou=0.3, high_score=0.5, low_score=0.1
    )
    assert (result.matches, result.unmatched_tracks, result.unmatched_detections) == ((), (), (0,))


def test_class_aware_labels() -> None:
    detections = dets((0, 0, 100, 100), label="cup")
    kwargs = dict(min_iou=0.3, high_score=0.5, low_score=0.1)
    assert associate([(0, 0, 100, 100)], detections, track_labels=["bowl"], **kwargs).matches == ()
    assert associate([(0, 0, 100, 100)], detections, track_labels=["cup"], **kwargs).matches == ((0, 0),)


def test_a_known_side_never_matches_a_track_of_the_opposite_side() -> None:
    boxes = [[0, 0, 10, 10], [2, 0, 12, 10]]
    sided = Detections.from_lists(boxes, [0.9, 0.9], [0, 0], ["hand", "hand"], sides=["right", "left"],
                                  side_scores=[0.9, 0.8])  # fmt: skip
    tracks = [[0, 0, 10, 10], [2, 0, 12, 10]]  # each on the "wrong" detection by IoU
    gated = associate(tracks, sided, min_iou=0.3, high_score=0.5, low_score=0.1, track_sides=["left", "right"])
    assert gated.matches == ((0, 1), (1, 0))
    free = associate(tracks, sided, min_iou=0.3, high_score=0.5, low_score=0.1, track_sides=[None, "right"])
    assert free.matches == ((0, 0), (1, 1)) or free.matches == ((0, 1), (1, 0))
    assert associate(tracks, sided, min_iou=0.3, high_score=0.5, low_score=0.1).matches == ((0, 0), (1, 1))
    unknown = dets(*boxes)  # detections without sides match on IoU alone
    assert associate(
        tracks, unknown, min_iou=0.3, high_score=0.5, low_score=0.1, track_sides=["left", "right"]
    ).matches == ((0, 0), (1, 1))
