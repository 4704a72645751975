"""Image resize (TensorFlow-exact) and NMS."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.geometry import iou_matrix, nms
from detectors.image import resize_bilinear


@pytest.mark.parametrize(
    ("shape", "size"), [((720, 1280, 3), (300, 300)), ((480, 640, 3), (512, 512)), ((100, 90, 3), (300, 300))]
)
def test_resize_matches_tensorflow_resize_bilinear(shape: tuple[int, int, int], size: tuple[int, int]) -> None:
    tf = pytest.importorskip("tensorflow")
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    expected = tf.compat.v1.image.resize_bilinear(image[None].astype(np.float32), size[::-1], align_corners=False)
    got = resize_bilinear(image, size)
    assert got.dtype == np.float32 and got.shape == (size[1], size[0], 3)
    np.testing.assert_allclose(got, expected.numpy()[0], atol=1e-3)


def test_iou_and_nms() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    assert iou_matrix(boxes[:1], boxes[2:3])[0, 0] == 0
    assert iou_matrix(boxes[:1], boxes[3:])[0, 0] == pytest.approx(1.0)
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]
    assert nms(boxes, scores, 0.5, max_detections=1).tolist() == [0]
    assert nms(boxes, scores, 0.5, class_ids=np.array([0, 1, 0, 0])).tolist() == [0, 1, 2]
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5).tolist() == []
