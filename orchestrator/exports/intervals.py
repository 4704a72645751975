"""Relations as an interval table (CSV): one row per relation, from its onset to its last held frame.

Columns (`COLUMNS`), one row per ``relation.start`` in ``relation_id`` order:

- ``relation_id``, ``relation`` (its name in the pipeline), ``hand`` (hand track id), ``side``
  (the hand's side, ``left`` / ``right``, or empty when unknown), ``object`` (object track id),
  ``label`` (the object's label);
- ``start_frame`` / ``start_s``: the onset (the ``relation.start`` record's ``frame`` / ``time``);
- ``end_frame`` / ``end_s``: the last frame the relation held (the ``relation.end`` record's);
- ``duration_frames`` / ``duration_s``: as the ``relation.end`` record says (frames from onset to
  end, both included; seconds of source time including the last frame's period);
- ``reason``: why it ended (``released``, ``hand_lost``, ``object_lost``, ``end_of_stream``), or
  ``open`` when the file has no ``relation.end`` for it (a run cut short): it then ends on the
  file's last frame, ``duration_s`` being ``end_s - start_s`` (the frame period is not known);
- ``mean_score`` / ``max_score``: the ``relation.end`` record's (empty for an open relation);
- ``carried_frames``: frames of the relation on which its object was carried in the hand, unseen
  (the ``relation.end`` record's; 0 when it has none; empty for an open relation).

``side`` comes from the hand tracker's ``tracks`` records when the file has them (the majority of
the hand track's sides over the relation's frames, `orchestrator.evaluation.relations.with_sides`);
the hand tracker is the one whose tracks carry the relations' hand ids and onset boxes.

A stream of a relations pipeline in which no relation started (its ``stream.start`` lists the
pipeline's relations) gives the header line alone; a file without relation records and without
that header is an error (it cannot tell "none happened" from "none asked").

Example:
    >>> records = [
    ...     {"type": "relation.start", "frame": 8, "time": 0.267, "relation_id": 1, "relation": "near",
    ...      "hand_id": 1, "object_id": 2, "object_label": "cup", "hand_box": [0, 0, 1, 1]},
    ...     {"type": "relation.end", "frame": 39, "time": 1.3, "relation_id": 1, "reason": "end_of_stream",
    ...      "duration_frames": 32, "duration_s": 1.066667, "mean_score": 0.876, "max_score": 1.0},
    ... ]
    >>> row = interval_rows(records)[0]
    >>> row["relation"], row["side"], row["start_frame"], row["end_s"], row["duration_frames"], row["reason"]
    ('near', '', 8, 1.3, 32, 'end_of_stream')
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.evaluation.relations import relation_intervals, with_sides
from orchestrator.exports.events_file import EventsFile

COLUMNS: tuple[str, ...] = (
    "relation_id",
    "relation",
    "hand",
    "side",
    "object",
    "label",
    "start_frame",
    "end_frame",
    "start_s",
    "end_s",
    "duration_frames",
    "duration_s",
    "reason",
    "mean_score",
    "max_score",
    "carried_frames",
)

Record = Mapping[str, Any]


def hand_tracker(records: Sequence[Record]) -> str | None:
    """The ``detector`` of the tracks records that hold the relations' hands, or ``None`` without one.

    A tracks record votes for its detector when, on a relation's onset frame, it has the
    relation's hand id (two votes when with the same box as the ``relation.start``'s ``hand_box``).
    """
    onsets = {(r["frame"], r["hand_id"]): r.get("hand_box") for r in records if r["type"] == "relation.start"}
    votes: Counter[str] = Counter()
    for record in records:
        if record["type"] != "tracks":
            continue
        for track in record.get("tracks", ()):
            key = (record["frame"], track.get("track_id"))
            if key in onsets:
                votes[str(record.get("detector", ""))] += 2 if track.get("box") == onsets[key] else 1
    return votes.most_common(1)[0][0] if votes else None


def _sides(records: Sequence[Record]) -> dict[int, str | None]:
    """``{relation_id: side}`` from the hand tracker's tracks records (empty without them)."""
    detector = hand_tracker(records)
    if detector is None:
        return {}
    hand_tracks: dict[int, dict[int, tuple[Sequence[float], str | None]]] = {}
    for record in records:
        if record["type"] == "tracks" and record.get("detector", "") == detector and record["frame"] not in hand_tracks:
            hand_tracks[record["frame"]] = {t["track_id"]: (t["box"], t.get("side")) for t in record["tracks"]}
    return {r.relation_id: r.side for r in with_sides(relation_intervals(records), hand_tracks)}


def interval_rows(records: Sequence[Record]) -> list[dict[str, Any]]:
    """One dict per relation (keys `COLUMNS`), in ``relation_id`` order; see the module docstring."""
    starts = {int(r["relation_id"]): r for r in records if r["type"] == "relation.start"}
    ends = {int(r["relation_id"]): r for r in records if r["type"] == "relation.end"}
    last = max(records, key=lambda r: (r["frame"], r["time"]))
    sides = _sides(records)
    rows = []
    for rid, start in sorted(starts.items()):
        end = ends.get(rid)
        row: dict[str, Any] = {
            "relation_id": rid,
            "relation": start["relation"],
            "hand": start["hand_id"],
            "side": sides.get(rid) or "",
            "object": start["object_id"],
            "label": start.get("object_label", ""),
            "start_frame": start["frame"],
            "start_s": start["time"],
        }
        if end is not None:
            row.update(
                end_frame=end["frame"],
                end_s=end["time"],
                duration_frames=end["duration_frames"],
                duration_s=end["duration_s"],
                reason=end["reason"],
                mean_score=end.get("mean_score", ""),
                max_score=end.get("max_score", ""),
                carried_frames=end.get("carried_frames", 0),
            )
        else:
            end_frame, end_s = max(last["frame"], start["frame"]), max(last["time"], start["time"])
            row.update(
                end_frame=end_frame,
                end_s=end_s,
                duration_frames=end_frame - start["frame"] + 1,
                duration_s=round(end_s - start["time"], 6),
                reason="open",
                mean_score="",
                max_score="",
                carried_frames="",
            )
        rows.append({column: row[column] for column in COLUMNS})
    return rows


_START_FIELDS = {"relation_id": int, "relation": str, "hand_id": int, "object_id": int}
_END_FIELDS = {"relation_id": int, "reason": str, "duration_frames": int, "duration_s": (int, float)}


def reports_relations(events: EventsFile) -> bool:
    """True when the file's ``stream.start`` header says its pipeline reports relations.

    Example:
        >>> from pathlib import Path
        >>> header = {"type": "stream.start", "frame": 0, "time": 0.0, "relations": ["holding"]}
        >>> reports_relations(EventsFile(Path("e.jsonl"), (header,)))
        True
    """
    return any(isinstance(r.get("relations"), list) and r["relations"] for r in events.of_type("stream.start"))


def export_intervals(events: EventsFile) -> str:
    """The interval table of ``events``' relations as CSV text (header first, ``\\n`` line ends).

    A stream whose header (``stream.start``) lists relations but that has no relation record
    had none: the table is its header line alone. Raises `UserError` for a file without
    ``relation.start`` records and without such a header (an older file, or a pipeline without
    relations), or for a record missing a field.
    """
    if reports_relations(events):
        starts = events.of_type("relation.start")
    else:
        starts = events.require("relation.start", "a pipeline with a relations: section")
    for record in starts:
        for name, kind in _START_FIELDS.items():
            events.field(record, name, kind)
    for record in events.of_type("relation.end"):
        for name, kind in _END_FIELDS.items():
            events.field(record, name, kind)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(interval_rows(events.records))
    return out.getvalue()


__all__ = ["COLUMNS", "export_intervals", "hand_tracker", "interval_rows", "reports_relations"]
