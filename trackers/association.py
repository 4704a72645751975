"""Matching tracks to detections: IoU cost, gated Hungarian assignment, two-pass (ByteTrack-style).

The two passes exist for partly hidden hands: a hand behind an object is often still detected,
but with a low score. Detections with ``score >= high_score`` are matched first, against every
track; the tracks left over then get a second chance against detections with
``low_score <= score < high_score``. Low-score detections never start tracks, so clutter near the
threshold cannot create new ids, while an existing track is not lost the moment its hand is
half covered. Detections below ``low_score`` are ignored.

Sides gate pairs as labels do: a detection with a known side (``"left"`` / ``"right"``) never
matches a track given the opposite side, so a left and a right hand crossing cannot swap ids;
where either side is unknown, the pair is matched on IoU alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from detectors.detections import Detections
from detectors.geometry import iou_matrix, same_label_mask


def match_by_iou(iou: np.ndarray, min_iou: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian assignment maximising the total IoU over pairs with ``IoU >= min_iou``.

    Pairs under the gate count as "no match" (gain 0), so the result is a maximum-weight
    matching among allowed pairs, not a forced pairing of every row.
    Returns ``(matches, unmatched_rows, unmatched_cols)``; matches are ``(row, col)`` sorted by row.

    Example:
        >>> match_by_iou(np.array([[0.9, 0.1], [0.6, 0.0]]), 0.3)
        ([(0, 0)], [1], [1])
    """
    n_rows, n_cols = iou.shape
    gain = np.where(iou >= min_iou, iou, 0.0)
    if n_rows == 0 or n_cols == 0 or not gain.any():
        return [], list(range(n_rows)), list(range(n_cols))
    rows, cols = linear_sum_assignment(gain, maximize=True)
    matches = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if gain[r, c] > 0.0]
    matched_rows = {r for r, _ in matches}
    matched_cols = {c for _, c in matches}
    return (
        matches,
        [r for r in range(n_rows) if r not in matched_rows],
        [c for c in range(n_cols) if c not in matched_cols],
    )


def opposite_side_mask(track_sides: Sequence[str | None], detection_sides: Sequence[str | None]) -> np.ndarray:
    """Boolean ``(T, D)``: true where both sides are known and differ (such a pair must never match).

    Example:
        >>> opposite_side_mask(["left", None], ["right", "left", None]).tolist()
        [[True, False, False], [False, False, False]]
    """
    tracks = np.array([side or "" for side in track_sides], dtype=object)[:, None]
    dets = np.array([side or "" for side in detection_sides], dtype=object)[None, :]
    return (tracks != "") & (dets != "") & (tracks != dets)


@dataclass(frozen=True)
class Association:
    """Result of `associate`.

    Attributes:
        matches: ``(track index, detection index)`` pairs, sorted by track index.
        unmatched_tracks: track indices with no detection.
        unmatched_detections: high-score detection indices left over: the candidates for new tracks.
    """

    matches: tuple[tuple[int, int], ...]
    unmatched_tracks: tuple[int, ...]
    unmatched_detections: tuple[int, ...]


def associate(
    track_boxes: np.ndarray | Sequence[Sequence[float]],
    detections: Detections,
    *,
    min_iou: float,
    high_score: float,
    low_score: float,
    track_labels: Sequence[str] | None = None,
    second_pass: Sequence[bool] | None = None,
    track_sides: Sequence[str | None] | None = None,
) -> Association:
    """Two-pass association of tracks (their predicted boxes) with one frame's detections.

    Args:
        track_boxes: ``(T, 4)`` predicted track boxes.
        detections: the frame's detections.
        min_iou: gate; a pair with a lower IoU is never matched.
        high_score: detections at or above it are matched first and may start tracks.
        low_score: detections in ``[low_score, high_score)`` only extend tracks left over.
        track_labels: when given (class-aware tracking), a track only matches detections with its label.
        second_pass: which tracks may take a low-score detection (default: all). The tracker
            excludes tentative tracks, so a low-score flicker cannot confirm a spurious track.
        track_sides: when given, each track's side (``"left"``, ``"right"`` or ``None``): a track
            never matches a detection whose known side (``detections.sides``) is the opposite one.

    Example:
        >>> dets = Detections.from_lists([[0, 0, 10, 10], [50, 0, 60, 10]], [0.9, 0.3], [0, 0], ["hand", "hand"])
        >>> associate([[1, 0, 11, 10], [51, 0, 61, 10]], dets, min_iou=0.3, high_score=0.5, low_score=0.1).matches
        ((0, 0), (1, 1))
        >>> left = Detections.from_lists([[0, 0, 10, 10]], [0.9], [0], ["hand"], sides=["left"], side_scores=[0.9])
        >>> associate([[1, 0, 11, 10]], left, min_iou=0.3, high_score=0.5, low_score=0.1,
        ...           track_sides=["right"]).unmatched_tracks
        (0,)
    """
    boxes = np.asarray(track_boxes, dtype=np.float64).reshape(-1, 4)
    n_tracks = boxes.shape[0]
    scores = detections.scores
    high = np.flatnonzero(scores >= high_score)
    low = np.flatnonzero((scores >= low_score) & (scores < high_score))
    iou = iou_matrix(boxes, detections.boxes)
    if track_labels is not None and n_tracks and len(detections):
        iou = np.where(same_label_mask(track_labels, detections.labels), iou, 0.0)
    if track_sides is not None and n_tracks and detections.has_sides:
        iou = np.where(opposite_side_mask(track_sides, detections.sides), 0.0, iou)

    first, left_tracks, left_high = match_by_iou(iou[:, high], min_iou)
    matches = [(t, int(high[d])) for t, d in first]
    eligible = [t for t in left_tracks if second_pass is None or second_pass[t]]
    second, _, _ = match_by_iou(iou[np.ix_(eligible, low)], min_iou)
    matches += [(eligible[t], int(low[d])) for t, d in second]
    matched = {t for t, _ in matches}
    return Association(
        matches=tuple(sorted(matches)),
        unmatched_tracks=tuple(t for t in range(n_tracks) if t not in matched),
        unmatched_detections=tuple(int(high[d]) for d in left_high),
    )
