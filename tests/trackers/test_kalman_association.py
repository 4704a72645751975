"""The box Kalman filter and the IoU / Hungarian / two-pass association."""

from __future__ import annotations

import numpy as np
import pytest
from tracker_scenarios import dets, linear_box, max_abs_error

from detectors.geometry import iou_matrix
from trackers.association import associate, match_by_iou
from trackers.kalman import BoxKalmanFilter


# ----------------------------------------------------------------------------- IoU
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (5, 0, 15, 10), 1 / 3),
        ((0, 0, 10, 10), (0, 0, 5, 5), 0.25),
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),  # touching edges
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
        ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),  # empty union
        ((5, 5, 5, 15), (0, 0, 10, 10), 0.0),  # zero-width box
    ],
)
def test_iou_pairs(a, b, expected) -> None:
    assert iou_matrix([a], [b])[0, 0] == pytest.approx(expected)
    assert iou_matrix([b], [a])[0, 0] == pytest.approx(expected)


def test_iou_matrix_shape_and_empty() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (5, 2))
    boxes = np.hstack([xy, xy + rng.uniform(1, 50, (5, 2))])
    matrix = iou_matrix(boxes, boxes[:3])
    assert matrix.shape == (5, 3)
    assert np.allclose(np.diag(matrix[:3]), 1.0)
    assert np.allclose(matrix[:3], matrix[:3].T)
    assert iou_matrix(np.zeros((0, 4)), boxes).shape == (0, 5)
    assert iou_matrix(boxes, []).shape == (5, 0)


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


# ----------------------------------------------------------------------------- Kalman filter
@pytest.mark.parametrize("dt", [1, 2, 3, 7])
def test_two_point_start_then_exact_linear_prediction(dt: int) -> None:
    def truth(f: int):
        return linear_box(f, 400, 300, 100, 150, 3.5, -2, 0.5, 1)

    kf = BoxKalmanFilter(truth(0))
    assert kf.box == pytest.approx(truth(0))
    for _ in range(dt):
        kf.predict()
    assert kf.box == pytest.approx(truth(0))  # velocity unknown until the second detection
    kf.update(truth(dt))
    assert kf.velocity == pytest.approx((3.5, -2, 0.5, 1))
    for f in range(dt + 1, dt + 40):
        kf.predict()
        assert max_abs_error(kf.box, truth(f)) < 1e-6
        if f % 4 == 0:
            kf.update(truth(f))


def test_shrinking_box_never_inverts() -> None:
    kf = BoxKalmanFilter((0, 0, 20, 20))
    kf.predict()
    kf.update((0, 0, 10, 10))  # shrinking 10 px/frame (and centre moving)
    for _ in range(5):
        kf.predict()
        x1, y1, x2, y2 = kf.box
        assert x2 - x1 >= 1.0 - 1e-9 and y2 - y1 >= 1.0 - 1e-9
    assert kf.velocity[2:] == (0.0, 0.0)


def test_noisy_measurements_are_smoothed() -> None:
    rng = np.random.default_rng(0)

    def truth(f: int):
        return linear_box(f, 400, 300, 100, 100, 2, 0)

    kf = BoxKalmanFilter(truth(0))
    errors_raw, errors_kf = [], []
    for f in range(1, 200):
        kf.predict()
        noisy = np.asarray(truth(f)) + rng.normal(0, 3.0, 4)
        kf.update(noisy)
        if f > 20:
            errors_raw.append(max_abs_error(noisy, truth(f)))
            errors_kf.append(max_abs_error(kf.box, truth(f)))
    assert np.mean(errors_kf) < 0.8 * np.mean(errors_raw)


def test_snapshot_restore_round_trip() -> None:
    kf = BoxKalmanFilter((0, 0, 10, 10), measurement_noise=0.1, acceleration_noise=0.05)
    kf.predict()
    kf.update((2, 1, 12, 11))
    snap = kf.snapshot()
    copy = BoxKalmanFilter.restore(snap, measurement_noise=0.1, acceleration_noise=0.05)
    for f in range(3):
        kf.predict()
        copy.predict()
        kf.update((4 + 2 * f, 2, 14 + 2 * f, 12))
        copy.update((4 + 2 * f, 2, 14 + 2 * f, 12))
    assert kf.box == copy.box and kf.velocity == copy.velocity
    assert BoxKalmanFilter.restore(snap, measurement_noise=0.1, acceleration_noise=0.05).box == pytest.approx(
        (2, 1, 12, 11)
    )
