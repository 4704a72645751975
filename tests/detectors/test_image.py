"""Image resize, exactly as TensorFlow's ``ResizeBilinear``."""

from __future__ import annotations

import numpy as np
import pytest

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
