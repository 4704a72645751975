"""The `Detections` value every detector returns.

Boxes are always ``x1, y1, x2, y2`` in pixels of the *original* frame. Conversions from a
model's own coordinate system (normalised, ``y1 x1 y2 x2``, input-resolution pixels) happen
inside the plugin, through the ``from_*`` adapters here, never downstream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detectors.errors import DetectionsError
from detectors.geometry import clip_boxes


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Detections:
    """Immutable detections on one frame.

    Attributes:
        boxes: float32 array ``(N, 4)`` of ``x1, y1, x2, y2`` pixels of the original frame.
        scores: float32 array ``(N,)`` in ``[0, 1]``.
        class_ids: int32 array ``(N,)``, indices into the detector's label list.
        labels: the label of each detection, ``len(labels) == N``.

    Example:
        >>> d = Detections.from_lists([[10, 20, 50, 80]], [0.9], [0], ["hand"])
        >>> len(d), d.labels
        (1, ('hand',))
    """

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    labels: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        class_ids = np.asarray(self.class_ids)
        if class_ids.size and not np.all(np.equal(np.mod(class_ids, 1), 0)):
            raise DetectionsError(f"class_ids must be integers, got {class_ids.tolist()}")
        class_ids = class_ids.astype(np.int32).reshape(-1)
        labels = tuple(str(label) for label in self.labels)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise DetectionsError(f"boxes must have shape (N, 4), got {boxes.shape}")
        n = boxes.shape[0]
        if scores.shape[0] != n or class_ids.shape[0] != n or len(labels) != n:
            raise DetectionsError(
                f"lengths differ: {n} boxes, {scores.shape[0]} scores, "
                f"{class_ids.shape[0]} class ids, {len(labels)} labels"
            )
        if not np.all(np.isfinite(boxes)):
            raise DetectionsError("boxes contain NaN or infinite coordinates")
        if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
            raise DetectionsError("boxes must satisfy x2 >= x1 and y2 >= y1 (x1, y1, x2, y2 order)")
        if n and (not np.all(np.isfinite(scores)) or scores.min() < 0.0 or scores.max() > 1.0):
            raise DetectionsError("scores must lie in [0, 1]")
        if n and class_ids.min() < 0:
            raise DetectionsError("class_ids must be >= 0")
        # Bypass frozen-ness once, to store the normalised, read-only arrays.
        object.__setattr__(self, "boxes", _frozen(boxes))
        object.__setattr__(self, "scores", _frozen(scores))
        object.__setattr__(self, "class_ids", _frozen(class_ids))
        object.__setattr__(self, "labels", labels)

    # ------------------------------------------------------------------ adapters
    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32), ())

    @classmethod
    def from_lists(
        cls,
        boxes: Sequence[Sequence[float]],
        scores: Sequence[float],
        class_ids: Sequence[int],
        labels: Sequence[str],
    ) -> Detections:
        """Build from plain Python lists (x1, y1, x2, y2 pixel boxes)."""
        if len(boxes) == 0:
            return cls.empty()
        return cls(np.asarray(boxes, np.float32), np.asarray(scores), np.asarray(class_ids), tuple(labels))

    @classmethod
    def from_class_ids(
        cls, boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, label_names: Sequence[str]
    ) -> Detections:
        """Build from arrays, looking each label up in the detector's label list."""
        class_ids = np.asarray(class_ids).astype(np.int32).reshape(-1)
        if class_ids.size and class_ids.max() >= len(label_names):
            raise DetectionsError(f"class id {int(class_ids.max())} is out of range for {len(label_names)} labels")
        labels = tuple(label_names[int(i)] for i in class_ids)
        return cls(boxes, scores, class_ids, labels)

    @classmethod
    def from_normalized_yxyx(
        cls,
        boxes_yxyx: np.ndarray,
        scores: np.ndarray,
        class_ids: np.ndarray,
        label_names: Sequence[str],
        frame_size: tuple[int, int],
    ) -> Detections:
        """Adapter for TF Object Detection API outputs: normalised ``y1, x1, y2, x2``.

        ``frame_size`` is ``(width, height)`` of the original frame. Boxes are clipped to it.
        """
        width, height = frame_size
        b = np.clip(np.asarray(boxes_yxyx, np.float32).reshape(-1, 4), 0.0, 1.0)
        boxes = np.stack([b[:, 1] * width, b[:, 0] * height, b[:, 3] * width, b[:, 2] * height], axis=1)
        return cls.from_class_ids(boxes, scores, class_ids, label_names)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Detections:
        """Inverse of `to_records`: dicts with ``box``, ``score``, ``class_id`` and ``label``."""
        records = list(records)
        if not records:
            return cls.empty()
        return cls.from_lists(
            [r["box"] for r in records],
            [r["score"] for r in records],
            [r.get("class_id", 0) for r in records],
            [r["label"] for r in records],
        )

    @classmethod
    def concat(cls, parts: Sequence[Detections]) -> Detections:
        """Several results for one frame as one value, in order.

        Example:
            >>> a = Detections.from_lists([[0, 0, 1, 1]], [0.5], [0], ["hand"])
            >>> len(Detections.concat([a, a])), Detections.concat([a]) is a
            (2, True)
        """
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.class_ids for p in parts]),
            tuple(label for p in parts for label in p.labels),
        )

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Detections):
            return NotImplemented
        return (
            self.labels == other.labels
            and np.array_equal(self.boxes, other.boxes)
            and np.array_equal(self.scores, other.scores)
            and np.array_equal(self.class_ids, other.class_ids)
        )

    __hash__ = None  # type: ignore[assignment]  # arrays are not hashable; equality is by value

    def select(self, mask: np.ndarray | Sequence[int]) -> Detections:
        """A subset, by boolean mask or index list, keeping order."""
        index = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask, dtype=np.intp)
        return Detections(
            self.boxes[index], self.scores[index], self.class_ids[index], tuple(self.labels[i] for i in index)
        )

    def clip(self, width: int, height: int) -> Detections:
        """Boxes clipped to a ``width`` × ``height`` frame."""
        return Detections(clip_boxes(self.boxes, width, height), self.scores, self.class_ids, self.labels)

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready dicts; boxes rounded to 0.01 px and scores to 1e-4 for stable output."""
        return [
            {
                "box": [round(float(v), 2) for v in box],
                "score": round(float(score), 4),
                "class_id": int(cid),
                "label": label,
            }
            for box, score, cid, label in zip(self.boxes, self.scores, self.class_ids, self.labels, strict=True)
        ]
