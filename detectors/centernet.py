"""``objects.coco.centernet``: CenterNet MobileNetV3, COCO's 80 classes (from @vladmandic/human 3.3.6).

The whole graph runs in LiteRT or TensorFlow: RGB floats 0..255 stretch-resized to 512×512 in,
the top 100 centre-point detections out (x1, y1, x2, y2 in input pixels, score, class id). This
plugin scales boxes back to the frame, applies per-class score thresholds and class-wise NMS.

The model is weak on small egocentric table objects (a paper cup scores "bottle 0.17",
"cup 0.10"; a phone "cell phone 0.11–0.18") and calls hands "person", so thresholds are per
class: ``class_thresholds`` overrides ``score_threshold`` for the classes it names, and
``classes`` keeps only the listed ones.

Example:
    >>> from detectors.centernet import CenterNetDetector
    >>> detector = CenterNetDetector(classes=["cup", "bottle", "cell phone"],
    ...                              class_thresholds={"cup": 0.1, "bottle": 0.15, "cell phone": 0.1})
    >>> detector.score_threshold_for("cup"), detector.score_threshold_for("bottle")
    (0.1, 0.15)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from detectors.coco import COCO_LABELS
from detectors.detections import Detections
from detectors.errors import ParamsError
from detectors.modelbase import StoreModelDetector, params_schema

_CLASS_PARAMS = {
    "classes": {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 1,
        "uniqueItems": True,
        "description": "keep only these COCO classes (names as in the COCO label list)",
    },
    "nms_across_classes": {
        "type": "boolean",
        "description": "suppress overlapping boxes whatever their class (one label per object); default false",
    },
    "input_size": {
        "type": "array",
        "items": {"type": "integer", "minimum": 128, "maximum": 1024, "multipleOf": 32},
        "minItems": 2,
        "maxItems": 2,
        "description": "[width, height] the frame is stretched to: [512, 512] (the model's own, the default) or "
        "[512, 384], which the model store also builds (COCO's 4:3; three quarters of the work)",
    },
    "class_thresholds": {
        "type": "object",
        "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
        "description": "per-class minimum score, class name → threshold; overrides score_threshold",
    },
}


class CenterNetDetector(StoreModelDetector):
    """COCO objects; boxes in original-frame pixels.

    Args:
        score_threshold: minimum score for classes without an entry in ``class_thresholds``.
        nms_iou: IoU above which a lower-scoring box of the same class is dropped.
        max_detections: at most this many boxes per frame (the model proposes 100).
        runtime: ``litert`` (default) or ``tf``.
        precision: ``fp32`` only (full-int8 quantization breaks this model).
        num_threads: CPU threads of the runtime.
        classes: keep only these class names; unknown names are an error suggesting the closest valid ones.
        class_thresholds: class name → minimum score.
        nms_across_classes: suppress overlapping boxes of different classes too (one label per object).
        input_size: ``(width, height)`` the frame is stretched to; ``(512, 512)`` is the model's own,
            others run a LiteRT fp32 build at that size, which the model store makes for the sizes
            its manifest lists (``(512, 384)``); `load` raises `ModelError` for one not built.
    """

    model_name = "objects.coco.centernet"
    labels = COCO_LABELS
    input_size = (512, 512)
    precisions: ClassVar[tuple[str, ...]] = ("fp32",)
    params_schema = params_schema(precisions, _CLASS_PARAMS)

    def __init__(
        self,
        score_threshold: float = 0.3,
        nms_iou: float = 0.5,
        max_detections: int = 100,
        runtime: str = "litert",
        precision: str = "fp32",
        num_threads: int = 2,
        classes: Sequence[str] | None = None,
        class_thresholds: Mapping[str, float] | None = None,
        nms_across_classes: bool = False,
        input_size: Sequence[int] | None = None,
    ) -> None:
        extra: dict[str, Any] = {"classes": list(classes)} if classes is not None else {}
        extra["nms_across_classes"] = nms_across_classes
        if input_size is not None:
            extra["input_size"] = list(input_size)
        if class_thresholds is not None:
            extra["class_thresholds"] = dict(class_thresholds)
        super().__init__(score_threshold, nms_iou, max_detections, runtime, precision, num_threads, **extra)
        index = {name: i for i, name in enumerate(self.labels)}
        self._check_names({"classes": classes or (), "class_thresholds": class_thresholds or {}}, index)
        self.classes = tuple(classes) if classes is not None else None
        self.class_thresholds = dict(class_thresholds or {})
        self.nms_across_classes = bool(nms_across_classes)
        if input_size is not None:
            self.input_size = (int(input_size[0]), int(input_size[1]))
        self._thresholds = np.full(len(self.labels), self.score_threshold, np.float64)
        for name, value in self.class_thresholds.items():
            self._thresholds[index[name]] = value
        if self.classes is not None:
            enabled = np.zeros(len(self.labels), bool)
            enabled[[index[name] for name in self.classes]] = True
            self._thresholds[~enabled] = np.inf

    def _check_names(self, named: Mapping[str, Iterable[str]], index: Mapping[str, int]) -> None:
        """Raise one `ParamsError` naming every unknown class of every parameter in ``named``.

        The message gives the closest valid names of each, not all 80 of them.
        """
        parts = []
        for param, names in named.items():
            unknown = [name for name in names if name not in index]
            if unknown:
                listed = ", ".join(f"{name!r}{self._closest(name)}" for name in unknown)
                parts.append(f"parameter {param}: unknown class{'es' if len(unknown) > 1 else ''} {listed}")
        if parts:
            raise ParamsError(
                f"{self.model_name}: {'; '.join(parts)}; {len(self.labels)} valid class names, "
                "see `python -m orchestrator plugins --json`"
            )

    def _closest(self, name: object) -> str:
        close = difflib.get_close_matches(str(name), self.labels, n=3, cutoff=0.6)
        return f" (closest: {', '.join(close)})" if close else ""

    def score_threshold_for(self, label: str) -> float:
        """The score a detection of ``label`` needs (infinite for classes filtered out)."""
        return float(self._thresholds[self.labels.index(label)])

    def detect(self, image: np.ndarray) -> Detections:
        """COCO objects on one RGB ``uint8`` frame."""
        from detectors.geometry import nms
        from detectors.image import resize_bilinear

        width, height = self.check_frame(image)
        (raw,) = self.infer([resize_bilinear(image, self.input_size)[None]])
        raw = raw.reshape(-1, 6)
        class_ids = np.nan_to_num(raw[:, 5], nan=-1.0).round().astype(np.int64)
        valid = (class_ids >= 0) & (class_ids < len(self.labels)) & np.isfinite(raw[:, :5]).all(axis=1)
        raw, class_ids = raw[valid], class_ids[valid]
        scores = np.clip(raw[:, 4], 0.0, 1.0)
        keep = scores >= self._thresholds[class_ids]
        if not keep.any():
            return Detections.empty()
        raw, class_ids, scores = raw[keep], class_ids[keep], scores[keep]
        in_w, in_h = self.input_size
        boxes = raw[:, :4] * np.array([width / in_w, height / in_h, width / in_w, height / in_h], np.float32)
        boxes = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]), np.maximum(boxes[:, :2], boxes[:, 2:])], 1)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
        # Per class by default; across classes, one object seen as "cup 0.10" and "bottle 0.17"
        # keeps only its best label, so it does not become two objects downstream.
        per_class = None if self.nms_across_classes else class_ids
        order = nms(boxes, scores, self.nms_iou, self.max_detections, class_ids=per_class)
        return Detections.from_class_ids(boxes[order], scores[order], class_ids[order], self.labels)
