"""The `Detections` value every detector returns.

Boxes are always ``x1, y1, x2, y2`` in pixels of the *original* frame. Conversions from a
model's own coordinate system (normalised, ``y1 x1 y2 x2``, input-resolution pixels) happen
inside the plugin, through the ``from_*`` adapters here, never downstream.

Optionally, each detection carries keypoints (``x, y`` in the same pixels, plus one value per
keypoint whose meaning each model documents) and a hand side (``"left"`` / ``"right"``: the
wearer's own hand, not the side of the image it appears on) with the side's score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detectors.errors import DetectionsError
from detectors.geometry import clip_boxes

#: The two hand sides, the wearer's own: a right hand is the wearer's right hand wherever it appears.
SIDES: tuple[str, str] = ("left", "right")

#: MediaPipe's 21 hand landmarks, in its order (a model that returns 21 hand keypoints uses this order).
HAND_KEYPOINT_NAMES: tuple[str, ...] = (
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_finger_mcp", "index_finger_pip", "index_finger_dip", "index_finger_tip",
    "middle_finger_mcp", "middle_finger_pip", "middle_finger_dip", "middle_finger_tip",
    "ring_finger_mcp", "ring_finger_pip", "ring_finger_dip", "ring_finger_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)  # fmt: skip

#: The bones of `HAND_KEYPOINT_NAMES` as index pairs: each finger from its base to its tip, and the palm
#: (wrist to the index and pinky bases, and across the finger bases).
HAND_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (5, 6), (6, 7), (7, 8),
    (9, 10), (10, 11), (11, 12),
    (13, 14), (14, 15), (15, 16),
    (17, 18), (18, 19), (19, 20),
    (0, 5), (5, 9), (9, 13), (13, 17), (0, 17),
)  # fmt: skip


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
        keypoints: ``None`` (the detector gives no keypoints), or a float32 array ``(N, K, 3)``:
            per detection ``K`` keypoints as ``x, y, v``: ``x, y`` in pixels of the original frame,
            ``v`` a third value each model documents (MediaPipe hands: relative depth ``z``, in
            the same pixel scale as ``x``, smaller is nearer the camera). Finite.
        keypoint_names: the ``K`` keypoint names, in order (``()`` when there are no keypoints);
            21 hand keypoints follow MediaPipe's order, `HAND_KEYPOINT_NAMES`.
        sides: per detection ``"left"``, ``"right"`` (the wearer's own hand) or ``None`` when
            unknown; ``()`` is short for all unknown.
        side_scores: per detection the side's score in ``[0, 1]``, ``None`` exactly where the side
            is ``None``; ``()`` is short for all unknown.

    Raises `DetectionsError` for mismatched lengths or shapes, non-finite values, scores out of
    range, an unknown side, or a side without a score (and the other way round).

    Example:
        >>> d = Detections.from_lists([[10, 20, 50, 80]], [0.9], [0], ["hand"])
        >>> len(d), d.labels, d.sides, d.keypoints is None
        (1, ('hand',), (None,), True)
        >>> k = Detections.from_lists([[10, 20, 50, 80]], [0.9], [0], ["hand"], sides=["left"], side_scores=[0.8],
        ...                           keypoints=[[[12, 22, 0], [48, 78, -3]]], keypoint_names=("wrist", "tip"))
        >>> k.keypoints.shape, k.keypoints.dtype, k.sides, k.to_records()[0]["side"]
        ((1, 2, 3), dtype('float32'), ('left',), 'left')
        >>> k.to_records(keypoints=True)[0]["keypoints"]
        [[12.0, 22.0, 0.0], [48.0, 78.0, -3.0]]
    """

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    labels: tuple[str, ...] = field(default=())
    keypoints: np.ndarray | None = None
    keypoint_names: tuple[str, ...] = ()
    sides: tuple[str | None, ...] = ()
    side_scores: tuple[float | None, ...] = ()

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
        keypoints, names = _check_keypoints(self.keypoints, self.keypoint_names, n)
        sides, side_scores = _check_sides(self.sides, self.side_scores, n)
        # Bypass frozen-ness once, to store the normalised, read-only arrays.
        object.__setattr__(self, "keypoints", keypoints)
        object.__setattr__(self, "keypoint_names", names)
        object.__setattr__(self, "sides", sides)
        object.__setattr__(self, "side_scores", side_scores)
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
        *,
        keypoints: Sequence[Sequence[Sequence[float]]] | np.ndarray | None = None,
        keypoint_names: Sequence[str] = (),
        sides: Sequence[str | None] = (),
        side_scores: Sequence[float | None] = (),
    ) -> Detections:
        """Build from plain Python lists (x1, y1, x2, y2 pixel boxes; keypoints ``(N, K, 3)``, see the class)."""
        if len(boxes) == 0 and keypoints is None:
            return cls.empty()
        kp = None
        if keypoints is not None:
            # Reshaped so that no detections with K named keypoints is (0, K, 3), not an empty list.
            kp = np.asarray(keypoints, np.float32)
            if kp.size == 0:
                kp = kp.reshape(len(boxes), len(keypoint_names), 3)
        return cls(
            np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray(scores),
            np.asarray(class_ids),
            tuple(labels),
            kp,
            tuple(keypoint_names),
            tuple(sides),
            tuple(side_scores),
        )

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
    def from_records(cls, records: Iterable[Mapping[str, Any]], keypoint_names: Sequence[str] = ()) -> Detections:
        """Inverse of `to_records`: dicts with ``box``, ``score``, ``class_id`` and ``label``, and
        optionally ``side`` / ``side_score`` and ``keypoints`` (``K`` triples each, on every record).

        ``keypoint_names`` names the keypoints (a ``detections`` record carries them once, beside the list).
        Raises `DetectionsError` when only some records have keypoints.
        """
        records = list(records)
        if not records:
            return cls.empty()
        with_keypoints = ["keypoints" in r for r in records]
        if any(with_keypoints) and not all(with_keypoints):
            raise DetectionsError("either every record or none has keypoints")
        return cls.from_lists(
            [r["box"] for r in records],
            [r["score"] for r in records],
            [r.get("class_id", 0) for r in records],
            [r["label"] for r in records],
            keypoints=[r["keypoints"] for r in records] if all(with_keypoints) else None,
            keypoint_names=keypoint_names,
            sides=[r.get("side") for r in records],
            side_scores=[r.get("side_score") for r in records],
        )

    @classmethod
    def concat(cls, parts: Sequence[Detections]) -> Detections:
        """Several results for one frame as one value, in order.

        Keypoints are kept when every non-empty part has them, with the same names; empty parts
        do not count. Raises `DetectionsError` when non-empty parts disagree (some with keypoints,
        some without, or different names).

        Example:
            >>> a = Detections.from_lists([[0, 0, 1, 1]], [0.5], [0], ["hand"])
            >>> len(Detections.concat([a, a])), Detections.concat([a]) is a
            (2, True)
        """
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.empty()
        keyed = [p for p in parts if len(p)] or list(parts[:1])
        names = {p.keypoint_names if p.keypoints is not None else None for p in keyed}
        if len(names) > 1:
            raise DetectionsError(
                "cannot concatenate detections with different keypoints (some without, or other names)"
            )
        (keypoint_names,) = names
        keypoints = None
        if keypoint_names is not None:
            k = len(keypoint_names)
            keypoints = np.concatenate([p.keypoints if p.keypoints is not None else np.zeros((0, k, 3)) for p in parts])
        return cls(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.class_ids for p in parts]),
            tuple(label for p in parts for label in p.labels),
            keypoints,
            keypoint_names or (),
            tuple(side for p in parts for side in p.sides),
            tuple(score for p in parts for score in p.side_scores),
        )

    @classmethod
    def from_supervision(cls, detections: Any, label_names: Sequence[str] | None = None) -> Detections:
        """Build from a ``supervision.Detections`` (the optional ``supervision`` extra).

        Boxes come from ``xyxy`` (pixels), scores from ``confidence``, class ids from ``class_id``,
        labels from ``data["class_name"]`` or else by class id from ``label_names``. Sides
        (``data["side"]``, ``data["side_score"]``) and keypoints (``data["keypoints"]`` ``(N, K, 3)``
        with ``metadata["keypoint_names"]``) are read back when present, as `to_supervision` writes
        them. Masks and ``tracker_id`` are not kept (a `Detections` has neither).

        Raises `DetectionsError` without ``confidence`` or ``class_id``, without labels (no
        ``class_name`` and no ``label_names``), or for values a `Detections` refuses.

        Example:
            >>> import pytest; sv = pytest.importorskip("supervision")  # the optional extra
            >>> found = sv.Detections(xyxy=np.array([[10.0, 20, 50, 80]]), confidence=np.array([0.9]),
            ...                       class_id=np.array([1]))
            >>> d = Detections.from_supervision(found, label_names=["person", "cup"])
            >>> d.boxes.tolist(), d.labels, d.class_ids.tolist()
            ([[10.0, 20.0, 50.0, 80.0]], ('cup',), [1])
        """
        if detections.confidence is None or detections.class_id is None:
            missing = "confidence" if detections.confidence is None else "class_id"
            raise DetectionsError(f"supervision Detections without {missing}: a Detections needs scores and class ids")
        class_ids = np.asarray(detections.class_id).astype(np.int64).reshape(-1)
        data = detections.data or {}
        if "class_name" in data:
            labels = tuple(str(label) for label in data["class_name"])
        elif label_names is not None:
            if class_ids.size and (class_ids.min() < 0 or class_ids.max() >= len(label_names)):
                raise DetectionsError(
                    f"class id {int(class_ids.max())} is out of range for {len(label_names)} label_names"
                )
            labels = tuple(label_names[int(i)] for i in class_ids)
        else:
            raise DetectionsError("supervision Detections without data['class_name']: pass label_names")
        sides: tuple[str | None, ...] = ()
        side_scores: tuple[float | None, ...] = ()
        if "side" in data:
            sides = tuple(None if side is None or side == "" else str(side) for side in data["side"])
            raw = data.get("side_score", [None] * len(sides))
            side_scores = tuple(
                None if side is None or score is None or not np.isfinite(score) else float(score)
                for side, score in zip(sides, raw, strict=True)
            )
        keypoints = data.get("keypoints")
        names = tuple((detections.metadata or {}).get("keypoint_names", ())) if keypoints is not None else ()
        return cls(
            np.asarray(detections.xyxy, np.float32).reshape(-1, 4),
            np.asarray(detections.confidence),
            class_ids,
            labels,
            None if keypoints is None else np.asarray(keypoints, np.float32),
            names,
            sides,
            side_scores,
        )

    def to_supervision(self) -> Any:
        """These detections as a ``supervision.Detections`` (the optional ``supervision`` extra).

        ``xyxy`` (float32 ``(N, 4)`` pixels), ``confidence`` (float32 ``(N,)``), ``class_id``
        (int ``(N,)``, the detector's class ids) and ``data["class_name"]`` (the labels, which
        supervision's ``LabelAnnotator`` shows); with sides, ``data["side"]`` (``"left"`` /
        ``"right"`` / ``None``) and ``data["side_score"]`` (NaN where unknown); with keypoints,
        ``data["keypoints"]`` ``(N, K, 3)`` and ``metadata["keypoint_names"]``. The arrays are
        writable copies. Raises `ImportError` naming the extra when supervision is not installed.

        Example:
            >>> import pytest; _ = pytest.importorskip("supervision")  # the optional extra
            >>> d = Detections.from_lists([[10, 20, 50, 80]], [0.9], [0], ["hand"], sides=["left"], side_scores=[0.8])
            >>> s = d.to_supervision()
            >>> s.xyxy.tolist(), s.class_id.tolist(), s.data["class_name"].tolist(), s.data["side"].tolist()
            ([[10.0, 20.0, 50.0, 80.0]], [0], ['hand'], ['left'])
            >>> Detections.from_supervision(s) == d
            True
        """
        sv = import_supervision()
        data: dict[str, Any] = {"class_name": np.array(self.labels, dtype=str).reshape(-1)}
        if self.has_sides:
            data["side"] = np.array(self.sides, dtype=object)
            data["side_score"] = np.array([np.nan if s is None else s for s in self.side_scores], dtype=np.float64)
        metadata: dict[str, Any] = {}
        if self.keypoints is not None:
            data["keypoints"] = np.array(self.keypoints, copy=True)
            metadata["keypoint_names"] = list(self.keypoint_names)
        return sv.Detections(
            xyxy=np.array(self.boxes, copy=True),
            confidence=np.array(self.scores, copy=True),
            class_id=self.class_ids.astype(int),
            data=data,
            metadata=metadata,
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
            and self.sides == other.sides
            and self.side_scores == other.side_scores
            and self.keypoint_names == other.keypoint_names
            and (self.keypoints is None) == (other.keypoints is None)
            and (self.keypoints is None or np.array_equal(self.keypoints, other.keypoints))
        )

    @property
    def has_sides(self) -> bool:
        """Whether any detection has a known side."""
        return any(side is not None for side in self.sides)

    __hash__ = None  # type: ignore[assignment]  # arrays are not hashable; equality is by value

    def select(self, mask: np.ndarray | Sequence[int]) -> Detections:
        """A subset, by boolean mask or index list, keeping order (keypoints and sides included)."""
        index = np.flatnonzero(mask) if np.asarray(mask).dtype == bool else np.asarray(mask, dtype=np.intp)
        return Detections(
            self.boxes[index],
            self.scores[index],
            self.class_ids[index],
            tuple(self.labels[i] for i in index),
            None if self.keypoints is None else self.keypoints[index],
            self.keypoint_names,
            tuple(self.sides[i] for i in index),
            tuple(self.side_scores[i] for i in index),
        )

    def clip(self, width: int, height: int) -> Detections:
        """Boxes, and keypoints' ``x, y``, clipped to a ``width`` × ``height`` frame (the third value is kept).

        Example:
            >>> d = Detections.from_lists([[-5, 0, 30, 10]], [0.5], [0], ["hand"],
            ...                           keypoints=[[[-2, 4, 7]]], keypoint_names=["wrist"])
            >>> d.clip(20, 8).boxes.tolist(), d.clip(20, 8).keypoints.tolist()
            ([[0.0, 0.0, 20.0, 8.0]], [[[0.0, 4.0, 7.0]]])
        """
        keypoints = None
        if self.keypoints is not None:
            keypoints = np.array(self.keypoints, copy=True)
            keypoints[..., 0] = np.clip(keypoints[..., 0], 0, width)
            keypoints[..., 1] = np.clip(keypoints[..., 1], 0, height)
        return Detections(
            clip_boxes(self.boxes, width, height),
            self.scores,
            self.class_ids,
            self.labels,
            keypoints,
            self.keypoint_names,
            self.sides,
            self.side_scores,
        )

    def to_records(self, keypoints: bool = False) -> list[dict[str, Any]]:
        """JSON-ready dicts; boxes rounded to 0.01 px and scores to 1e-4 for stable output.

        ``side`` and ``side_score`` are added where the side is known; ``keypoints`` (``K`` lists
        ``[x, y, v]``, rounded to 0.01) only when asked and present. Without either, the dicts are
        exactly those of detections without keypoints or sides.
        """
        records = []
        for i, (box, score, cid, label) in enumerate(
            zip(self.boxes, self.scores, self.class_ids, self.labels, strict=True)
        ):
            record: dict[str, Any] = {
                "box": [round(float(v), 2) for v in box],
                "score": round(float(score), 4),
                "class_id": int(cid),
                "label": label,
            }
            side = self.sides[i]
            if side is not None:
                record["side"] = side
                record["side_score"] = round(float(self.side_scores[i]), 4)  # type: ignore[arg-type]
            if keypoints and self.keypoints is not None:
                record["keypoints"] = keypoints_to_lists(self.keypoints[i])
            records.append(record)
        return records


def import_supervision() -> Any:
    """The ``supervision`` module, or an `ImportError` saying how to install it (an optional extra)."""
    try:
        import supervision
    except ImportError as exc:
        raise ImportError(
            "supervision is not installed: pip install 'hands-orchestrator[supervision]' (or pip install supervision)"
        ) from exc
    return supervision


def keypoints_to_lists(keypoints: np.ndarray) -> list[list[float]]:
    """One detection's keypoints ``(K, 3)`` as JSON-ready lists, rounded to 0.01 (stable output)."""
    return [[round(float(v), 2) for v in point] for point in np.asarray(keypoints).reshape(-1, 3)]


def _check_keypoints(
    keypoints: np.ndarray | None, names: Sequence[str], n: int
) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Normalised keypoints (read-only float32 ``(N, K, 3)``) and names, or `DetectionsError`."""
    names = tuple(str(name) for name in names) if not isinstance(names, str) else (names,)
    if keypoints is None:
        if names:
            raise DetectionsError(f"keypoint_names given ({len(names)}) without keypoints")
        return None, ()
    array = np.asarray(keypoints, dtype=np.float32)
    if array.ndim != 3 or array.shape[0] != n or array.shape[2] != 3:
        raise DetectionsError(f"keypoints must have shape (N, K, 3) with N = {n} detections, got {array.shape}")
    if len(names) != array.shape[1]:
        raise DetectionsError(f"keypoint_names must name the K = {array.shape[1]} keypoints, got {len(names)} names")
    if not np.all(np.isfinite(array)):
        raise DetectionsError("keypoints contain NaN or infinite values")
    return _frozen(array), names


def _check_sides(
    sides: Sequence[str | None], scores: Sequence[float | None], n: int
) -> tuple[tuple[str | None, ...], tuple[float | None, ...]]:
    """Per-detection sides and side scores, ``()`` expanded to all unknown; or `DetectionsError`."""
    sides = tuple(sides) if len(sides) else (None,) * n
    scores = tuple(scores) if len(scores) else (None,) * n
    if len(sides) != n or len(scores) != n:
        raise DetectionsError(
            f"sides and side_scores must have one entry per detection ({n}), got {len(sides)} and {len(scores)}"
        )
    checked: list[float | None] = []
    for side, score in zip(sides, scores, strict=True):
        if side is not None and side not in SIDES:
            raise DetectionsError(f"side must be 'left', 'right' or None, got {side!r}")
        if (side is None) != (score is None):
            raise DetectionsError(f"a side and its score are known together, got side {side!r} with score {score!r}")
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, (int, float, np.number)):
                raise DetectionsError(f"side_score must be a number, got {score!r}")
            score = float(score)
            if not 0.0 <= score <= 1.0:  # also refuses NaN
                raise DetectionsError(f"side_score must lie in [0, 1], got {score}")
        checked.append(score)
    return sides, tuple(checked)
