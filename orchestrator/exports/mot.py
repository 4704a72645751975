"""Tracks as MOTChallenge text: one line per track per frame, what MOT tools (TrackEval, motmetrics) read.

Each line is ``frame,id,bb_left,bb_top,bb_width,bb_height,conf,-1,-1,-1`` with ``frame`` 1-based
(the events' ``frame`` + 1), ``id`` the track id, the box in pixels (left, top, width, height,
from the track's ``x1, y1, x2, y2``), ``conf`` the track's score and ``-1`` for the unused world
coordinates. Lines come in frame order, then in the order of the tracks record. Every reported
track is written, predicted boxes included (as the tracks records have them).

Example:
    >>> record = {"type": "tracks", "frame": 0, "detector": "hands",
    ...           "tracks": [{"track_id": 3, "box": [10.0, 20.0, 70.5, 100.0], "score": 0.9}]}
    >>> mot_lines([record])
    ['1,3,10,20,60.5,80,0.9,-1,-1,-1']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestrator.errors import UserError
from orchestrator.exports.events_file import EventsFile


def number(value: float, digits: int = 2) -> str:
    """``value`` rounded to ``digits`` decimals, without trailing zeros (``84.0`` -> ``84``).

    >>> number(84.0), number(60.499999), number(0.12345, 4), number(-0.0)
    ('84', '60.5', '0.1235', '0')
    """
    text = f"{round(float(value), digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def mot_lines(tracks_records: Iterable[dict[str, Any]]) -> list[str]:
    """MOTChallenge lines (without newlines) of ``tracks`` records, sorted by frame (stable)."""
    lines: list[tuple[int, str]] = []
    for record in tracks_records:
        for track in record["tracks"]:
            x1, y1, x2, y2 = (float(v) for v in track["box"])
            fields = [
                str(record["frame"] + 1),
                str(int(track["track_id"])),
                number(x1),
                number(y1),
                number(x2 - x1),
                number(y2 - y1),
                number(track["score"], 4),
                "-1",
                "-1",
                "-1",
            ]
            lines.append((record["frame"], ",".join(fields)))
    lines.sort(key=lambda item: item[0])
    return [line for _, line in lines]


def export_mot(events: EventsFile, detector: str | None = None) -> str:
    """The MOTChallenge text of one tracker's tracks in ``events`` (with a final newline).

    ``detector`` picks the tracks of the tracker that follows that detector; it may be left out
    when the file holds the tracks of one tracker only. Raises `UserError` without tracks
    records, with tracks of several detectors and no ``detector``, or for a malformed track.
    """
    records = events.select_detector(events.require("tracks", "outputs.records: [tracks]"), detector)
    for record in records:
        tracks = events.field(record, "tracks", list)
        for track in tracks:
            box = track.get("box") if isinstance(track, dict) else None
            if (
                not isinstance(box, list)
                or len(box) != 4
                or not isinstance(track.get("track_id"), int)
                or not isinstance(track.get("score"), (int, float))
            ):
                raise UserError(
                    f"{events.path}: tracks record seq {record.get('seq')} (frame {record['frame']}): "
                    f"a track needs track_id, box [x1, y1, x2, y2] and score, got {track!r}"
                )
    lines = mot_lines(records)
    return "".join(f"{line}\n" for line in lines)
