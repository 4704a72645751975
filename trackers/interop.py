"""Tracks for other libraries: ``supervision.Detections`` with ``tracker_id`` (the optional ``supervision`` extra).

supervision's annotators, line counters and zones take a ``supervision.Detections``; tracks given
to them keep their ids, so ``LabelAnnotator``, ``TraceAnnotator`` and ``LineZone`` follow each
track. Works on `Track` values (a `Scene`'s ``hands`` / ``objects``, a tracker's output) and on
the track dicts of a ``tracks`` record read back from an events file.

Example:
    >>> import pytest; _ = pytest.importorskip("supervision")  # the optional extra
    >>> from trackers.track import Track
    >>> hand = Track(3, (10, 20, 50, 80), 0.9, "hand", 0, side="right", side_score=0.7)
    >>> s = tracks_to_supervision([hand])
    >>> s.tracker_id.tolist(), s.xyxy.tolist(), s.data["class_name"].tolist(), s.data["side"].tolist()
    ([3], [[10.0, 20.0, 50.0, 80.0]], ['hand'], ['right'])
    >>> tracks_to_supervision([hand.to_record()]).tracker_id.tolist()   # a tracks record's track dicts
    [3]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from detectors.detections import import_supervision
from trackers.errors import TrackError
from trackers.track import Track

#: Fields a track dict (of a ``tracks`` record) must have for `tracks_to_supervision`.
RECORD_FIELDS = ("track_id", "box", "score", "label", "class_id")


def _fields(track: Track | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(track, Track):
        return {
            "track_id": track.track_id,
            "box": track.box,
            "score": track.score,
            "label": track.label,
            "class_id": track.class_id,
            "side": track.side,
            "side_score": track.side_score,
            "state": str(track.state),
            "box_source": str(track.box_source),
        }
    if isinstance(track, Mapping):
        missing = [name for name in RECORD_FIELDS if name not in track]
        if missing:
            raise TrackError(f"a track dict needs {', '.join(RECORD_FIELDS)}; missing {', '.join(missing)}")
        return {**track, "state": track.get("state", "confirmed"), "box_source": track.get("box_source", "observed")}
    raise TrackError(f"expected Track values or track dicts of a tracks record, got {type(track).__name__}")


def tracks_to_supervision(tracks: Sequence[Track | Mapping[str, Any]]) -> Any:
    """The tracks as one ``supervision.Detections``, in order.

    ``xyxy`` float32 ``(N, 4)`` pixels, ``confidence`` (the tracks' scores), ``class_id``,
    ``tracker_id`` (the track ids) and ``data``: ``class_name`` (labels), ``state``
    (``confirmed`` / ``lost``), ``box_source`` (``observed`` / ``predicted``), and when any track
    has a side, ``side`` (``"left"`` / ``"right"`` / ``None``) and ``side_score`` (NaN where
    unknown). Raises `ImportError` naming the extra without supervision, `TrackError` for an item
    that is neither a `Track` nor a track dict with `RECORD_FIELDS`.
    """
    sv = import_supervision()
    rows = [_fields(track) for track in tracks]
    data: dict[str, Any] = {
        "class_name": np.array([str(r["label"]) for r in rows], dtype=str).reshape(-1),
        "state": np.array([str(r["state"]) for r in rows], dtype=str).reshape(-1),
        "box_source": np.array([str(r["box_source"]) for r in rows], dtype=str).reshape(-1),
    }
    if any(r.get("side") is not None for r in rows):
        data["side"] = np.array([r.get("side") for r in rows], dtype=object)
        scores = [np.nan if r.get("side_score") is None else float(r["side_score"]) for r in rows]
        data["side_score"] = np.array(scores, dtype=np.float64)
    return sv.Detections(
        xyxy=np.array([r["box"] for r in rows], dtype=np.float32).reshape(-1, 4),
        confidence=np.array([r["score"] for r in rows], dtype=np.float32),
        class_id=np.array([r["class_id"] for r in rows], dtype=int),
        tracker_id=np.array([r["track_id"] for r in rows], dtype=int),
        data=data,
    )
