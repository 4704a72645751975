"""Box geometry: IoU (matrix and scalar twins), NMS, covered share, gaps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from detectors.geometry import box_gap, covered_share, iou, iou_matrix, nms


def test_iou_and_nms() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    assert iou_matrix(boxes[:1], boxes[2:3])[0, 0] == 0
    assert iou_matrix(boxes[:1], boxes[3:])[0, 0] == pytest.approx(1.0)
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]
    assert nms(boxes, scores, 0.5, max_detections=1).tolist() == [0]
    assert nms(boxes, scores, 0.5, class_ids=np.array([0, 1, 0, 0])).tolist() == [0, 1, 2]
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5).tolist() == []


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


def test_iou_matches_the_trackers_iou_matrix() -> None:
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 200, size=(12, 4))
    boxes = np.concatenate([np.minimum(corners[:, :2], corners[:, 2:]), np.maximum(corners[:, :2], corners[:, 2:])], 1)
    expected = iou_matrix(boxes, boxes)
    for i, j in itertools.product(range(len(boxes)), repeat=2):
        assert iou(tuple(boxes[i]), tuple(boxes[j])) == pytest.approx(expected[i, j], abs=1e-12)


@pytest.mark.parametrize(
    ("cover", "box", "share"),
    [
        ((0, 0, 10, 10), (5, 0, 15, 10), 0.5),
        ((0, 0, 10, 10), (2, 2, 4, 4), 1.0),
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
        ((0, 0, 10, 10), (5, 5, 5, 15), 0.0),  # a vertical line partly outside
        ((0, 0, 10, 10), (5, 2, 5, 8), 1.0),  # a vertical line inside
    ],
)
def test_covered_share(cover: tuple, box: tuple, share: float) -> None:
    assert covered_share(cover, box) == share


@pytest.mark.parametrize(
    ("a", "b", "gap"),
    [
        ((0, 0, 10, 10), (13, 14, 20, 20), 5.0),
        ((0, 0, 10, 10), (5, 5, 20, 20), 0.0),
        ((0, 0, 10, 10), (-7, 0, -2, 5), 2.0),
    ],
)
def test_box_gap(a: tuple, b: tuple, gap: float) -> None:
    assert box_gap(a, b) == gap == box_gap(b, a)
