"""``hands.egohands``: the EgoHands SSDLite MobileNetV2 hand detector (from handtrack.js 0.0.13).

The model store cuts the graph after its own resize loop (see ``models/egohands-ssdlite.yaml``),
so this plugin resizes: RGB, TensorFlow-style bilinear stretch to 300×300, floats 0..255. The
graph normalises (``x * 2/255 - 1``), runs the network and decodes the 1917 anchor boxes; score
filtering and non-maximum suppression happen here, in numpy. Feeding BGR ruins its accuracy, so
frames must be RGB (the runtime converts once at the source).

Example:
    >>> from detectors.egohands import EgoHandsDetector
    >>> detector = EgoHandsDetector(score_threshold=0.6, precision="int8")
    >>> with detector:  # doctest: +SKIP
    ...     detections = detector.detect(rgb_frame)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from detectors.detections import Detections
from detectors.modelbase import StoreModelDetector, params_schema


class EgoHandsDetector(StoreModelDetector):
    """Hands (one class) in egocentric or table-top footage; boxes in original-frame pixels.

    Args:
        score_threshold: minimum hand score (0..1).
        nms_iou: IoU above which a lower-scoring overlapping box is dropped.
        max_detections: at most this many hands per frame.
        runtime: ``litert`` (default) or ``tf``.
        precision: ``auto`` (default: ``int8`` once ``models quantize`` has built it, else ``fp32``),
            ``fp32`` or ``int8`` (about 1.7× faster than fp32 here, AP within 0.01).
        num_threads: CPU threads of the runtime.
    """

    model_name = "hands.egohands"
    labels = ("hand",)
    input_size = (300, 300)
    precisions: ClassVar[tuple[str, ...]] = ("fp32", "int8")
    params_schema = params_schema(precisions)

    def __init__(
        self,
        score_threshold: float = 0.5,
        nms_iou: float = 0.5,
        max_detections: int = 20,
        runtime: str = "litert",
        precision: str = "auto",
        num_threads: int = 2,
    ) -> None:
        super().__init__(score_threshold, nms_iou, max_detections, runtime, precision, num_threads)

    def detect(self, image: np.ndarray) -> Detections:
        """Hands on one RGB ``uint8`` frame."""
        from detectors.geometry import nms
        from detectors.image import resize_bilinear

        width, height = self.check_frame(image)
        scores, boxes = self.infer([resize_bilinear(image, self.input_size)[None]])
        scores, boxes = scores.reshape(-1), boxes.reshape(-1, 4)
        keep = np.flatnonzero(scores >= self.score_threshold)
        if keep.size == 0:
            return Detections.empty()
        yxyx = np.clip(boxes[keep], 0.0, 1.0)
        pixels = yxyx[:, [1, 0, 3, 2]] * np.array([width, height, width, height], np.float32)
        pixels[:, 2:] = np.maximum(pixels[:, 2:], pixels[:, :2])
        order = nms(pixels, scores[keep], self.nms_iou, self.max_detections)
        return Detections.from_class_ids(
            pixels[order], scores[keep][order], np.zeros(len(order), np.int32), self.labels
        )
