"""SSD anchor centres for MediaPipe's palm detector.

Follows the anchor layout of MediaPipe's ``SsdAnchorsCalculator`` (``mediapipe/calculators/tflite/
ssd_anchors_calculator.cc``) with the options of ``mediapipe/modules/palm_detection/palm_detection_cpu.pbtxt``
(Apache-2.0): ``num_layers: 4``, ``strides: 8, 16, 16, 16``, one aspect ratio plus the interpolated one
(so 2 anchors per layer and cell), ``anchor_offset 0.5``, ``fixed_anchor_size: true``. Consecutive layers
with the same stride share one feature map, so the palm model sees a 24×24 grid with 2 anchors per cell
(stride 8) followed by a 12×12 grid with 6 per cell (stride 16): 2016 anchors.

With ``fixed_anchor_size`` every anchor has width and height 1, so only the centres are returned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from detectors.errors import MediaPipeError

PALM_INPUT_SIZE = 192
PALM_STRIDES = (8, 16, 16, 16)
ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 and the interpolated-scale anchor


def ssd_anchor_centers(
    input_width: int,
    input_height: int,
    strides: Sequence[int],
    anchors_per_layer: int = ANCHORS_PER_LAYER,
    offset: float = 0.5,
) -> np.ndarray:
    """Anchor centres ``(N, 2)`` float32 ``(x, y)`` as fractions of the model input (0..1).

    Layers of equal consecutive stride are merged into one feature map of
    ``ceil(input / stride)`` cells per side; anchors are ordered by feature map, then row ``y``,
    column ``x``, then anchor within the cell; a cell's centre is ``((x + offset) / gw, (y + offset) / gh)``.
    Raises `MediaPipeError` for empty strides or non-positive sizes.

    >>> ssd_anchor_centers(192, 192, (8, 16, 16, 16)).shape
    (2016, 2)
    >>> (ssd_anchor_centers(192, 192, (8, 16, 16, 16))[:3] * 48).round(4).tolist()  # in 1/48 units
    [[1.0, 1.0], [1.0, 1.0], [3.0, 1.0]]
    """
    if not strides or min(strides) <= 0 or input_width <= 0 or input_height <= 0 or anchors_per_layer <= 0:
        raise MediaPipeError(f"bad anchor options: size {input_width}x{input_height}, strides {list(strides)}")
    groups: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same = 0
        while layer + same < len(strides) and strides[layer + same] == stride:
            same += 1
        grid_w = math.ceil(input_width / stride)
        grid_h = math.ceil(input_height / stride)
        xs = (np.arange(grid_w, dtype=np.float32) + np.float32(offset)) / np.float32(grid_w)
        ys = (np.arange(grid_h, dtype=np.float32) + np.float32(offset)) / np.float32(grid_h)
        gx, gy = np.meshgrid(xs, ys)  # (grid_h, grid_w), row-major in y then x
        cells = np.stack([gx.ravel(), gy.ravel()], axis=1)
        groups.append(np.repeat(cells, same * anchors_per_layer, axis=0))
        layer += same
    return np.ascontiguousarray(np.concatenate(groups).astype(np.float32))


def palm_anchors() -> np.ndarray:
    """The palm detector's 2016 anchor centres, ``(2016, 2)`` float32 ``(x, y)`` in 0..1.

    >>> a = palm_anchors()
    >>> len(a), (a[[0, 1151, 1152, 2015]] * 48).round(4).tolist()  # in 1/48 units
    (2016, [[1.0, 1.0], [47.0, 47.0], [2.0, 2.0], [46.0, 46.0]])
    """
    return ssd_anchor_centers(PALM_INPUT_SIZE, PALM_INPUT_SIZE, PALM_STRIDES)
