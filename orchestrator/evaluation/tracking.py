"""Tracking accuracy against ground-truth hand boxes: MOTA, IDF1, ID switches, MT/ML, mean IoU.

Ground truth comes in the layout of the EgoDex label files (``*_hands.csv``)::

    frame,hand,xmin,ymin,xmax,ymax,joint_confidence,visible_fraction
    0,left,803.9,868.2,1160.5,1080,0.523,0.5

where ``hand`` is the identity (``left`` / ``right``) and the box is in pixels. Extra columns are
ignored. Ground truth may also be MOTChallenge text (``gt.txt``; `load_mot_labels`), one box per
line without a header::

    frame,id,bb_left,bb_top,bb_width,bb_height,conf[,...]
    1,1,803.9,868.2,356.6,211.8,1,-1,-1,-1

with ``frame`` 1-based and ``id`` the identity; `load_track_labels` tells the two apart by
content (a first line of numbers is MOTChallenge) and reads either.

Predictions are per-frame tracks ``{frame: [(track_id, (x1, y1, x2, y2)), ...]}``, each
optionally with a third element, the track's side (``"left"`` / ``"right"`` or ``None``).

The CLEAR-MOT and identity metrics are computed by `motmetrics` from a per-frame distance matrix
with NaN for pairs that may not match, under one of two matching rules (`MATCH_RULES`):

- ``iou`` (the default): a predicted box matches a ground-truth box only when their IoU is at
  least ``min_iou``; the cost is ``1 - IoU``.
- ``centre``: a predicted box matches when its centre lies within half the ground-truth box's
  diagonal of the ground-truth box's centre (boundary included); the cost is that distance
  divided by the half-diagonal (`centre_distance_matrix`), gate 1.0. It tolerates labels drawn
  in another box convention (the egodex boxes span the hand's joints, padded).

When predictions carry sides, ``side_accuracy`` is the share of matched (track, label) pairs with
a side whose side equals the label's identity (``left`` / ``right``); pairs whose label identity is
not a side (MOTChallenge ids) do not count, so numbered labels give ``None``.

Example:
    >>> gt = {0: [("left", (0, 0, 10, 10))], 1: [("left", (1, 0, 11, 10))]}
    >>> pred = {0: [(1, (0, 0, 10, 10))], 1: [(1, (1, 0, 11, 10))]}
    >>> m = tracking_metrics(gt, pred, frames=range(2))
    >>> m.mota, m.idf1, m.id_switches, m.mean_iou
    (1.0, 1.0, 0, 1.0)
    >>> sided = {0: [(1, (3, 0, 13, 10), "right")], 1: [(1, (1, 0, 11, 10), "left")]}
    >>> m = tracking_metrics(gt, sided, frames=range(2), match="centre")
    >>> m.match, m.idf1, m.side_accuracy, m.side_pairs
    ('centre', 1.0, 0.5, 2)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detectors.geometry import iou_matrix
from orchestrator.errors import UserError
from orchestrator.evaluation.csv_rows import integer, number, rows

#: Label identities that are hand sides: only these are compared with the tracks' sides.
SIDES = ("left", "right")

Box = tuple[float, float, float, float]
REQUIRED_COLUMNS = ("frame", "hand", "xmin", "ymin", "xmax", "ymax")
#: Matching rules of `tracking_metrics`: IoU at least ``min_iou``, or centre within half the label's diagonal.
MATCH_RULES = ("iou", "centre")
#: Gate of the ``centre`` rule on the normalised centre distance (1.0: half the label's diagonal).
CENTRE_GATE = 1.0


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
    seen: set[tuple[int, str]] = set()
    for line, row in rows(path, REQUIRED_COLUMNS, "hand labels"):
        frame = integer(path, line, "frame", row["frame"])
        hand = row["hand"]
        if not hand:
            raise UserError(f"{path}:{line}: empty hand identity")
        x1, y1, x2, y2 = coords = [number(path, line, c, row[c]) for c in ("xmin", "ymin", "xmax", "ymax")]
        if x2 < x1 or y2 < y1:
            raise UserError(f"{path}:{line}: box must satisfy xmax >= xmin and ymax >= ymin, got {coords}")
        if (frame, hand) in seen:
            raise UserError(f"{path}:{line}: hand {hand!r} appears twice on frame {frame}")
        seen.add((frame, hand))
        labels.setdefault(frame, []).append((hand, (x1, y1, x2, y2)))
    return dict(sorted(labels.items()))


#: Fields a MOTChallenge line needs, in order (more may follow: class, visibility, world x, y, z).
MOT_FIELDS = ("frame", "id", "bb_left", "bb_top", "bb_width", "bb_height", "conf")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_mot_text(path: str | Path) -> bool:
    """Whether ``path``'s first non-blank line is comma-separated numbers (MOTChallenge, no header).

    A file that cannot be read, or is empty, is not: the CSV reader then reports the problem.
    """
    try:
        with Path(path).open(encoding="utf-8") as handle:
            for text in handle:
                if text.strip():
                    fields = [f.strip() for f in text.split(",")]
                    return len(fields) >= len(MOT_FIELDS) and all(map(_is_number, fields))
    except (OSError, UnicodeDecodeError):
        return False
    return False


def load_mot_labels(path: str | Path) -> dict[int, list[tuple[int, Box]]]:
    """Read MOTChallenge text (``gt.txt``, or a tracker's results) into ``{frame: [(id, (x1, y1, x2, y2)), ...]}``.

    Lines are ``frame,id,bb_left,bb_top,bb_width,bb_height,conf[,...]`` with ``frame`` 1-based:
    frames come out 0-based (``frame - 1``), as the pipeline numbers them, and boxes as corners.
    A line whose ``conf`` is 0 is left out (MOTChallenge ground truth's "ignore" flag); further
    fields (class, visibility, world coordinates) are ignored. Raises `UserError` naming the file
    and line for a missing file, a line with fewer than 7 fields, a value that is not a number, a
    frame below 1, a negative size, or the same id twice on one frame.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "gt.txt")
        >>> _ = open(path, "w").write("1,7,10,20,30,40,1,-1,-1,-1\\n2,7,12,20,30,40,0,-1,-1,-1\\n")
        >>> load_mot_labels(path)
        {0: [(7, (10.0, 20.0, 40.0, 60.0))]}
    """
    path = Path(path)
    labels: dict[int, list[tuple[int, Box]]] = {}
    seen: set[tuple[int, int]] = set()
    try:
        with path.open(encoding="utf-8") as handle:
            lines = list(handle)
    except OSError as exc:
        raise UserError(f"cannot read MOTChallenge labels {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not a readable MOTChallenge text file: {exc}") from exc
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        fields = [f.strip() for f in text.split(",")]
        if len(fields) < len(MOT_FIELDS):
            raise UserError(
                f"{path}:{line}: expected at least {len(MOT_FIELDS)} fields {','.join(MOT_FIELDS)}, got {len(fields)}"
            )
        named = dict(zip(MOT_FIELDS, fields, strict=False))
        frame = integer(path, line, "frame", named["frame"])
        if frame < 1:
            raise UserError(f"{path}:{line}: frame must be >= 1 (MOTChallenge frames are 1-based), got {frame}")
        identity = integer(path, line, "id", named["id"])
        left, top, width, height, conf = (
            number(path, line, name, named[name]) for name in ("bb_left", "bb_top", "bb_width", "bb_height", "conf")
        )
        if width < 0 or height < 0:
            raise UserError(f"{path}:{line}: bb_width and bb_height must be >= 0, got {width}, {height}")
        if conf == 0:
            continue  # "not to be considered" in MOTChallenge ground truth
        if (frame, identity) in seen:
            raise UserError(f"{path}:{line}: id {identity} appears twice on frame {frame}")
        seen.add((frame, identity))
        labels.setdefault(frame - 1, []).append((identity, (left, top, left + width, top + height)))
    return dict(sorted(labels.items()))


def load_track_labels(path: str | Path) -> dict[int, list[tuple[Hashable, Box]]]:
    """Ground-truth tracks from either layout: MOTChallenge text when `is_mot_text`, else `load_hand_labels`.

    Example:
        >>> import tempfile, os
        >>> folder = tempfile.mkdtemp()
        >>> _ = open(os.path.join(folder, "gt.txt"), "w").write("3,1,0,0,10,10,1,-1,-1,-1\\n")
        >>> _ = open(os.path.join(folder, "h.csv"), "w").write("frame,hand,xmin,ymin,xmax,ymax\\n2,left,0,0,10,10\\n")
        >>> load_track_labels(os.path.join(folder, "gt.txt")), load_track_labels(os.path.join(folder, "h.csv"))
        ({2: [(1, (0.0, 0.0, 10.0, 10.0))]}, {2: [('left', (0.0, 0.0, 10.0, 10.0))]})
    """
    if is_mot_text(path):
        return dict(load_mot_labels(path))
    return dict(load_hand_labels(path))


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
        mean_iou: mean IoU of the matched boxes (under either rule); ``None`` when nothing matched.
        frames: number of frames evaluated.
        false_positives: predicted boxes matched to no ground-truth box.
        misses: ground-truth boxes matched to no predicted box.
        gt_tracks: distinct ground-truth identities seen on the evaluated frames.
        match: the matching rule, ``"iou"`` or ``"centre"`` (see the module docstring).
        min_iou: the IoU a match needed under the ``iou`` rule; ``None`` under ``centre``.
        side_accuracy: share of the matched pairs with a track side whose side equals the
            ground-truth identity; ``None`` when no matched track carries a side.
        side_pairs: matched pairs whose track carries a side (the denominator of ``side_accuracy``).
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
    match: str = "iou"
    min_iou: float | None = 0.5
    side_accuracy: float | None = None
    side_pairs: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ratios rounded to 1e-4 for stable output."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _finite_or_none(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def centre_distance_matrix(
    gt_boxes: Sequence[Sequence[float]] | np.ndarray, pred_boxes: Sequence[Sequence[float]] | np.ndarray
) -> np.ndarray:
    """``(G, P)`` distances from each ground-truth box's centre to each predicted box's centre,
    divided by half the ground-truth box's diagonal: 1.0 is exactly on the ``centre`` rule's gate.

    A degenerate (zero-size) ground-truth box gives 0 for a predicted centre on its point, else inf.

    Example:
        >>> centre_distance_matrix([(0, 0, 6, 8)], [(0, 0, 6, 8), (4, 6, 8, 10), (10, 0, 20, 10)]).round(3).tolist()
        [[0.0, 1.0, 2.408]]
    """
    gt = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    pred = np.asarray(pred_boxes, dtype=np.float64).reshape(-1, 4)
    gt_centres = (gt[:, :2] + gt[:, 2:]) / 2.0
    pred_centres = (pred[:, :2] + pred[:, 2:]) / 2.0
    half_diagonals = np.hypot(gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]) / 2.0
    offsets = pred_centres[None, :, :] - gt_centres[:, None, :]
    distances = np.hypot(offsets[..., 0], offsets[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = distances / half_diagonals[:, None]
    return np.where(distances == 0.0, 0.0, normalised)  # 0/0 on a zero-size box: the same point


def match_costs(
    gt_boxes: Sequence[Sequence[float]] | np.ndarray,
    pred_boxes: Sequence[Sequence[float]] | np.ndarray,
    match: str = "iou",
    min_iou: float = 0.5,
) -> np.ndarray:
    """The ``(G, P)`` motmetrics distance matrix of one frame: the rule's cost, NaN outside its gate.

    Example:
        >>> match_costs([(0, 0, 10, 10)], [(0, 0, 10, 10), (5, 0, 15, 10)], match="iou", min_iou=0.5).tolist()
        [[0.0, nan]]
        >>> match_costs([(0, 0, 10, 10)], [(0, 0, 10, 10), (5, 0, 15, 10)], match="centre").round(3).tolist()
        [[0.0, 0.707]]
    """
    if match == "iou":
        iou = iou_matrix(gt_boxes, pred_boxes)
        return np.where(iou >= min_iou, 1.0 - iou, np.nan)
    if match == "centre":
        distance = centre_distance_matrix(gt_boxes, pred_boxes)
        return np.where(distance <= CENTRE_GATE, distance, np.nan)
    raise ValueError(f"match must be one of {', '.join(MATCH_RULES)}, got {match!r}")


def _same_side(side: Any, identity: Hashable) -> bool:
    return str(side).strip().lower() == str(identity).strip().lower()


def tracking_metrics(
    gt: Mapping[int, Sequence[tuple[Hashable, Sequence[float]]]],
    predictions: Mapping[int, Sequence[tuple[Any, ...]]],
    frames: Iterable[int],
    min_iou: float = 0.5,
    match: str = "iou",
) -> TrackingMetrics:
    """Compare predicted tracks with ground truth on ``frames``.

    Args:
        gt: ``{frame: [(identity, (x1, y1, x2, y2)), ...]}``, as from `load_hand_labels`.
        predictions: ``{frame: [(track_id, (x1, y1, x2, y2)), ...]}``, or with a third element per
            track, its side (``"left"`` / ``"right"``, or ``None`` for none).
        frames: the frames to evaluate, usually every frame of the video (``range(n_frames)``);
            a frame absent from ``gt`` or ``predictions`` has no box there. Entries of ``gt`` and
            ``predictions`` on other frames are ignored.
        min_iou: under ``match="iou"``, a predicted box can only match a ground-truth box with at
            least this IoU. Not used under ``centre``.
        match: ``"iou"`` or ``"centre"`` (see the module docstring).

    Example: see the module docstring.
    """
    import motmetrics as mm  # heavy (pandas); only the evaluation command needs it

    if match not in MATCH_RULES:
        raise ValueError(f"match must be one of {', '.join(MATCH_RULES)}, got {match!r}")
    if match == "iou" and not (0.0 < min_iou <= 1.0):
        raise ValueError(f"min_iou must lie in (0, 1], got {min_iou}")
    rule = {"match": match, "min_iou": min_iou if match == "iou" else None}
    frame_list = sorted(set(frames))
    if not frame_list:
        return TrackingMetrics(None, None, 0, 0, 0, None, 0, 0, 0, 0, **rule)
    # motmetrics stores identities as floats: number the ground-truth identities in order of appearance.
    gt_numbers: dict[Hashable, int] = {}
    # (frame, gt number, track id) -> (IoU, track side, gt identity) for every pair inside the gate.
    pairs: dict[tuple[int, int, int], tuple[float, Any, Hashable]] = {}
    acc = mm.MOTAccumulator(auto_id=False)
    for frame in frame_list:
        objects = list(gt.get(frame, ()))
        hypotheses = list(predictions.get(frame, ()))
        object_ids = [gt_numbers.setdefault(identity, len(gt_numbers) + 1) for identity, _ in objects]
        hypothesis_ids = [int(h[0]) for h in hypotheses]
        if len(set(object_ids)) != len(object_ids):
            raise ValueError(f"frame {frame}: a ground-truth identity appears twice")
        if len(set(hypothesis_ids)) != len(hypothesis_ids):
            raise ValueError(f"frame {frame}: a track id appears twice")
        gt_boxes = [box for _, box in objects]
        pred_boxes = [h[1] for h in hypotheses]
        distances = match_costs(gt_boxes, pred_boxes, match=match, min_iou=min_iou)
        iou = iou_matrix(gt_boxes, pred_boxes)
        for i, j in zip(*np.nonzero(np.isfinite(distances)), strict=True):
            side = hypotheses[j][2] if len(hypotheses[j]) > 2 else None
            pairs[(frame, object_ids[i], hypothesis_ids[j])] = (float(iou[i, j]), side, objects[i][0])
        acc.update(object_ids, hypothesis_ids, distances, frameid=frame)

    names = [
        "mota",
        "idf1",
        "num_switches",
        "mostly_tracked",
        "mostly_lost",
        "num_false_positives",
        "num_misses",
        "num_objects",
        "num_unique_objects",
    ]
    summary = mm.metrics.create().compute(acc, metrics=names, name="run").iloc[0]
    num_objects = int(summary["num_objects"])
    # The matched pairs: MATCH and SWITCH events (TRANSFER / ASCEND / MIGRATE rows repeat switches).
    events = acc.mot_events
    matched = events[events["Type"].isin(["MATCH", "SWITCH"])]
    ious: list[float] = []
    side_pairs = side_right = 0
    for (frame, _), oid, hid in zip(matched.index, matched["OId"], matched["HId"], strict=True):
        pair_iou, side, identity = pairs[(int(frame), int(oid), int(hid))]
        ious.append(pair_iou)
        if side is not None and str(identity).strip().lower() in SIDES:
            side_pairs += 1
            side_right += _same_side(side, identity)
    return TrackingMetrics(
        mota=_finite_or_none(summary["mota"]) if num_objects else None,
        idf1=_finite_or_none(summary["idf1"]),
        id_switches=int(summary["num_switches"]),
        mostly_tracked=int(summary["mostly_tracked"]),
        mostly_lost=int(summary["mostly_lost"]),
        mean_iou=float(np.mean(ious)) if ious else None,
        frames=len(frame_list),
        false_positives=int(summary["num_false_positives"]),
        misses=int(summary["num_misses"]),
        gt_tracks=int(summary["num_unique_objects"]),
        side_accuracy=side_right / side_pairs if side_pairs else None,
        side_pairs=side_pairs,
        **rule,
    )
