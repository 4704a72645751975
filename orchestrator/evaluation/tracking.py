"""Tracking accuracy against ground-truth hand boxes: MOTA, IDF1, ID switches, MT/ML, mean IoU.

Ground truth comes in the layout of the EgoDex label files (``*_hands.csv``)::

    frame,hand,xmin,ymin,xmax,ymax,joint_confidence,visible_fraction
    0,left,803.9,868.2,1160.5,1080,0.523,0.5

where ``hand`` is the identity (``left`` / ``right``) and the box is in pixels. Extra columns are
ignored. Predictions are per-frame tracks ``{frame: [(track_id, (x1, y1, x2, y2)), ...]}``.

The CLEAR-MOT and identity metrics are computed by `motmetrics`; a predicted box matches a
ground-truth box only when their IoU is at least ``min_iou``.

Example:
    >>> gt = {0: [("left", (0, 0, 10, 10))], 1: [("left", (1, 0, 11, 10))]}
    >>> pred = {0: [(1, (0, 0, 10, 10))], 1: [(1, (1, 0, 11, 10))]}
    >>> m = tracking_metrics(gt, pred, frames=range(2))
    >>> m.mota, m.idf1, m.id_switches, m.mean_iou
    (1.0, 1.0, 0, 1.0)
"""

from __future__ import annotations

import csv
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detectors.geometry import iou_matrix
from orchestrator.errors import UserError

Box = tuple[float, float, float, float]
REQUIRED_COLUMNS = ("frame", "hand", "xmin", "ymin", "xmax", "ymax")


def load_hand_labels(csv_path: str | Path) -> dict[int, list[tuple[str, Box]]]:
    """Read an EgoDex-style ``*_hands.csv`` into ``{frame: [(hand, (x1, y1, x2, y2)), ...]}``.

    Frames come out in increasing order, hands in file order. Raises `UserError` naming the
    file and line for a missing file or column, a value that is not a number, a box with
    ``xmax < xmin`` or ``ymax < ymin``, or the same hand twice on one frame.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "x_hands.csv")
        >>> _ = open(path, "w").write("frame,hand,xmin,ymin,xmax,ymax\\n0,left,1,2,3,4\\n")
        >>> load_hand_labels(path)
        {0: [('left', (1.0, 2.0, 3.0, 4.0))]}
    """
    path = Path(csv_path)
    labels: dict[int, list[tuple[str, Box]]] = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise UserError(f"{path}:1: empty file, expected a header {','.join(REQUIRED_COLUMNS)}")
            names = [h.strip() for h in header]
            missing = [c for c in REQUIRED_COLUMNS if c not in names]
            if missing:
                raise UserError(f"{path}:1: missing column(s) {', '.join(missing)}; header is {','.join(names)}")
            index = {c: names.index(c) for c in REQUIRED_COLUMNS}
            seen: set[tuple[int, str]] = set()
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue  # blank lines (often a trailing one) carry no label
                if len(row) < len(names):
                    raise UserError(f"{path}:{line}: expected {len(names)} columns, got {len(row)}")
                frame_text = row[index["frame"]].strip()
                try:
                    frame = int(frame_text)
                except ValueError:
                    raise UserError(f"{path}:{line}: frame must be an integer, got {frame_text!r}") from None
                if frame < 0:
                    raise UserError(f"{path}:{line}: frame must be >= 0, got {frame}")
                hand = row[index["hand"]].strip()
                if not hand:
                    raise UserError(f"{path}:{line}: empty hand identity")
                coords = []
                for column in ("xmin", "ymin", "xmax", "ymax"):
                    text = row[index[column]].strip()
                    try:
                        value = float(text)
                    except ValueError:
                        raise UserError(f"{path}:{line}: {column} must be a number, got {text!r}") from None
                    if not math.isfinite(value):
                        raise UserError(f"{path}:{line}: {column} must be finite, got {text!r}")
                    coords.append(value)
                x1, y1, x2, y2 = coords
                if x2 < x1 or y2 < y1:
                    raise UserError(f"{path}:{line}: box must satisfy xmax >= xmin and ymax >= ymin, got {coords}")
                if (frame, hand) in seen:
                    raise UserError(f"{path}:{line}: hand {hand!r} appears twice on frame {frame}")
                seen.add((frame, hand))
                labels.setdefault(frame, []).append((hand, (x1, y1, x2, y2)))
    except OSError as exc:
        raise UserError(f"cannot read hand labels {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path}: not a readable CSV file: {exc}") from exc
    return dict(sorted(labels.items()))


@dataclass(frozen=True)
class TrackingMetrics:
    """Tracking accuracy over a set of frames.

    Attributes:
        mota: multiple-object tracking accuracy, ``1 - (misses + false positives + id switches) / gt boxes``;
            ``None`` without ground-truth boxes.
        idf1: identity F1 score; ``None`` when there is neither a ground-truth nor a predicted box.
        id_switches: times a ground-truth identity was matched to a different track id than before.
        mostly_tracked: ground-truth identities matched on at least 80 % of the frames they appear on.
        mostly_lost: ground-truth identities matched on less than 20 % of their frames.
        mean_iou: mean IoU of the matched boxes; ``None`` when nothing matched.
        frames: number of frames evaluated.
        false_positives: predicted boxes matched to no ground-truth box.
        misses: ground-truth boxes matched to no predicted box.
        gt_tracks: distinct ground-truth identities seen on the evaluated frames.
    """

    mota: float | None
    idf1: float | None
    id_switches: int
    mostly_tracked: int
    mostly_lost: int
    mean_iou: float | None
    frames: int
    false_positives: int
    misses: int
    gt_tracks: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ratios rounded to 1e-4 for stable output."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _finite_or_none(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def tracking_metrics(
    gt: Mapping[int, Sequence[tuple[Hashable, Sequence[float]]]],
    predictions: Mapping[int, Sequence[tuple[int, Sequence[float]]]],
    frames: Iterable[int],
    min_iou: float = 0.5,
) -> TrackingMetrics:
    """Compare predicted tracks with ground truth on ``frames``.

    Args:
        gt: ``{frame: [(identity, (x1, y1, x2, y2)), ...]}``, as from `load_hand_labels`.
        predictions: ``{frame: [(track_id, (x1, y1, x2, y2)), ...]}``.
        frames: the frames to evaluate, usually every frame of the video (``range(n_frames)``);
            a frame absent from ``gt`` or ``predictions`` has no box there. Entries of ``gt`` and
            ``predictions`` on other frames are ignored.
        min_iou: a predicted box can only match a ground-truth box with at least this IoU.

    Example: see the module docstring.
    """
    import motmetrics as mm  # heavy (pandas); only the evaluation command needs it

    if not (0.0 < min_iou <= 1.0):
        raise ValueError(f"min_iou must lie in (0, 1], got {min_iou}")
    frame_list = sorted(set(frames))
    if not frame_list:
        return TrackingMetrics(None, None, 0, 0, 0, None, 0, 0, 0, 0)
    # motmetrics stores identities as floats: number the ground-truth identities in order of appearance.
    gt_numbers: dict[Hashable, int] = {}
    acc = mm.MOTAccumulator(auto_id=False)
    for frame in frame_list:
        objects = list(gt.get(frame, ()))
        hypotheses = list(predictions.get(frame, ()))
        object_ids = [gt_numbers.setdefault(identity, len(gt_numbers) + 1) for identity, _ in objects]
        hypothesis_ids = [int(track_id) for track_id, _ in hypotheses]
        if len(set(object_ids)) != len(object_ids):
            raise ValueError(f"frame {frame}: a ground-truth identity appears twice")
        if len(set(hypothesis_ids)) != len(hypothesis_ids):
            raise ValueError(f"frame {frame}: a track id appears twice")
        iou = iou_matrix([box for _, box in objects], [box for _, box in hypotheses])
        distances = np.where(iou >= min_iou, 1.0 - iou, np.nan)
        acc.update(object_ids, hypothesis_ids, distances, frameid=frame)

    names = [
        "mota",
        "idf1",
        "num_switches",
        "mostly_tracked",
        "mostly_lost",
        "motp",
        "num_matches",
        "num_false_positives",
        "num_misses",
        "num_objects",
        "num_unique_objects",
    ]
    summary = mm.metrics.create().compute(acc, metrics=names, name="run").iloc[0]
    num_objects = int(summary["num_objects"])
    matches = int(summary["num_matches"])
    return TrackingMetrics(
        mota=_finite_or_none(summary["mota"]) if num_objects else None,
        idf1=_finite_or_none(summary["idf1"]),
        id_switches=int(summary["num_switches"]),
        mostly_tracked=int(summary["mostly_tracked"]),
        mostly_lost=int(summary["mostly_lost"]),
        # motp is the mean distance (1 - IoU) of the matched pairs.
        mean_iou=1.0 - float(summary["motp"]) if matches else None,
        frames=len(frame_list),
        false_positives=int(summary["num_false_positives"]),
        misses=int(summary["num_misses"]),
        gt_tracks=int(summary["num_unique_objects"]),
    )
