"""Relation events against labelled contact intervals: which real contacts the relations find.

Labelled contacts come in the layout of ``../shared/data/egodex/contacts.csv``::

    clip,hand,start_frame,end_frame,object,note
    add_remove_lid_0,right,18,79,cup,fingers on the lid ...

one row per contact: the clip (the video's file stem), the wearer's hand (``left`` / ``right``)
and the first and last frame of the contact, both included. ``object`` is kept for reports but
never compared: detectors name objects differently from the labels ("bottle" for a paper cup).

Relations are intervals of frames from a ``relation.start`` record's ``frame`` (the onset) to its
``relation.end`` record's ``frame`` (the last frame it held), both included; a relation still open
when the records end ends on the last frame. Each carries the side of its hand (`majority_side`
of per-frame votes, from the hand track's ``side`` or from labelled hand boxes, `label_side_votes`);
``None`` when unknown.

Scoring (`score_relations`): a relation of a contact kind *matches* a contact when its side is
the contact's hand and their temporal IoU (`temporal_iou`) is at least ``min_tiou`` (boundary
included). A contact is *found* when some relation matches it. Matching is not one-to-one: two
relations on one contact both match it, and it is found once.

- recall = contacts found / labelled contacts
- precision = contact-kind relations that match some contact / contact-kind relations

Both are ``None`` when their denominator is 0. ``by_relation`` gives the same counts for the
relations of each kind alone (``contacts`` is always every labelled contact).

Example:
    >>> contacts = [Contact("clip", "right", 10, 19, "cup")]
    >>> relations = [RelationInterval(1, "holding", 1, 12, 19, "right"), RelationInterval(2, "near", 1, 0, 30, "right")]
    >>> score_relations(contacts, relations, kinds=("holding",))["overall"]
    {'contacts': 1, 'found': 1, 'relations': 1, 'matched': 1, 'recall': 1.0, 'precision': 1.0}
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError
from orchestrator.evaluation.csv_rows import integer, rows

#: The hand tracker's tracks per frame: ``{frame: {track_id: (box, side or None)}}``.
HandTracks = Mapping[int, Mapping[int, tuple[Sequence[float], str | None]]]
#: Labelled hand boxes per frame, as from `orchestrator.evaluation.tracking.load_hand_labels`.
HandLabels = Mapping[int, Sequence[tuple[str, Sequence[float]]]]
#: Columns a contacts CSV must have (others, such as ``note``, are ignored).
CONTACT_COLUMNS = ("clip", "hand", "start_frame", "end_frame", "object")
#: The hand sides a contact may name.
SIDES = ("left", "right")
#: Relation kinds scored by default: the ones that claim a contact.
DEFAULT_KINDS = ("holding", "touching")
DEFAULT_MIN_TIOU = 0.3
#: Keys of each counts object, in output order.
COUNT_KEYS = ("contacts", "found", "relations", "matched", "recall", "precision")


@dataclass(frozen=True)
class Contact:
    """One labelled contact: ``hand`` touches ``object`` from ``start`` to ``end`` (frames, both included)."""

    clip: str
    hand: str
    start: int
    end: int
    object: str = ""


@dataclass(frozen=True)
class RelationInterval:
    """One relation from the event stream: frames ``start`` to ``end`` (both included), its hand's side or None."""

    relation_id: int
    relation: str
    hand_id: int
    start: int
    end: int
    side: str | None = None
    object_label: str = ""


def temporal_iou(a_start: int, a_end: int, b_start: int, b_end: int) -> float:
    """IoU of two frame intervals, each with both ends included (``[3, 3]`` is one frame).

    Example:
        >>> temporal_iou(0, 9, 0, 2), temporal_iou(0, 9, 10, 19), temporal_iou(5, 5, 5, 5)
        (0.3, 0.0, 1.0)
    """
    inter = min(a_end, b_end) - max(a_start, b_start) + 1
    if inter <= 0:
        return 0.0
    union = (a_end - a_start + 1) + (b_end - b_start + 1) - inter
    # int / int is rounded once, to the float nearest the true ratio: a ratio of exactly 3/10
    # gives the same float as the literal 0.3, so a threshold given as a decimal compares exactly.
    return inter / union


def _same_side(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _counts(contacts: int, found: int, relations: int, matched: int) -> dict[str, Any]:
    return {
        "contacts": contacts,
        "found": found,
        "relations": relations,
        "matched": matched,
        "recall": _ratio(found, contacts),
        "precision": _ratio(matched, relations),
    }


def score_relations(
    contacts: Sequence[Contact],
    relations: Iterable[RelationInterval],
    kinds: Sequence[str] = DEFAULT_KINDS,
    min_tiou: float = DEFAULT_MIN_TIOU,
) -> dict[str, Any]:
    """Score relation intervals against labelled contacts (see the module docstring for the rules).

    Relations whose name is not in ``kinds`` are ignored. Returns ``{"overall": counts,
    "by_relation": {kind: counts, ...}, "detail": {"contacts": [...], "relations": [...]}}`` where
    counts has the keys of `COUNT_KEYS`; ``by_relation`` lists every kind of ``kinds``, in order.
    ``detail`` says, per contact, which relations found it, and per relation its best tIoU with a
    contact of its side and whether it matched.

    Example: the boundary (exactly 0.3) counts, a side mismatch does not, two relations on one
    contact are both matched while the contact is found once, and a stray relation matches nothing.

        >>> contacts = [Contact("c", "left", 0, 9), Contact("c", "right", 0, 9), Contact("c", "right", 50, 59)]
        >>> relations = [
        ...     RelationInterval(1, "holding", 7, 0, 2, "left"),     # tIoU 3/10 = 0.3 with the left contact
        ...     RelationInterval(2, "touching", 8, 0, 9, "left"),    # the same contact again
        ...     RelationInterval(3, "holding", 9, 50, 59, "left"),   # right contact's frames, wrong side
        ...     RelationInterval(4, "touching", 8, 30, 40, "right"), # overlaps nothing
        ...     RelationInterval(5, "holding", 9, 0, 9, None),       # side unknown
        ... ]
        >>> result = score_relations(contacts, relations, kinds=("holding", "touching"), min_tiou=0.3)
        >>> result["overall"]
        {'contacts': 3, 'found': 1, 'relations': 5, 'matched': 2, 'recall': 0.3333, 'precision': 0.4}
        >>> result["by_relation"]["holding"]
        {'contacts': 3, 'found': 1, 'relations': 3, 'matched': 1, 'recall': 0.3333, 'precision': 0.3333}
        >>> result["detail"]["contacts"][0]["found_by"]
        [1, 2]
    """
    if not (0.0 < min_tiou <= 1.0):
        raise ValueError(f"min_tiou must lie in (0, 1], got {min_tiou}")
    kinds = tuple(dict.fromkeys(kinds))
    scored = [r for r in relations if r.relation in kinds]
    # (contact index, relation index) of every match
    matches: set[tuple[int, int]] = set()
    best: list[float] = []
    for j, relation in enumerate(scored):
        best_j = 0.0
        for i, contact in enumerate(contacts):
            if not _same_side(relation.side, contact.hand):
                continue
            tiou = temporal_iou(contact.start, contact.end, relation.start, relation.end)
            best_j = max(best_j, tiou)
            if tiou >= min_tiou:
                matches.add((i, j))
        best.append(best_j)

    def counts_for(selected: set[int]) -> dict[str, Any]:
        found = {i for i, j in matches if j in selected}
        matched = {j for _, j in matches if j in selected}
        return _counts(len(contacts), len(found), len(selected), len(matched))

    by_relation = {kind: counts_for({j for j, r in enumerate(scored) if r.relation == kind}) for kind in kinds}
    detail = {
        "contacts": [
            {
                "hand": c.hand,
                "start_frame": c.start,
                "end_frame": c.end,
                "object": c.object,
                "found_by": sorted(scored[j].relation_id for i2, j in matches if i2 == i),
            }
            for i, c in enumerate(contacts)
        ],
        "relations": [
            {
                "relation_id": r.relation_id,
                "relation": r.relation,
                "hand_id": r.hand_id,
                "side": r.side,
                "start_frame": r.start,
                "end_frame": r.end,
                "object_label": r.object_label,
                "best_tiou": round(best[j], 4),
                "matched": any(j2 == j for _, j2 in matches),
            }
            for j, r in enumerate(scored)
        ],
    }
    return {"overall": counts_for(set(range(len(scored)))), "by_relation": by_relation, "detail": detail}


def load_contacts(csv_path: str | Path, clip: str) -> list[Contact]:
    """The contacts of ``clip`` in a contacts CSV (see the module docstring), in file order.

    Raises `UserError` naming the file (and line) for a missing file or column, a hand that is not
    ``left``/``right``, a frame that is not an integer >= 0, ``end_frame < start_frame``, or no row
    for ``clip``.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "contacts.csv")
        >>> _ = open(path, "w").write("clip,hand,start_frame,end_frame,object\\nv,Left,3,9,cup\\nw,right,0,1,lid\\n")
        >>> load_contacts(path, "v")
        [Contact(clip='v', hand='left', start=3, end=9, object='cup')]
    """
    path = Path(csv_path)
    contacts: list[Contact] = []
    clips: list[str] = []
    for line, row in rows(path, CONTACT_COLUMNS, "contacts"):
        if row["clip"] not in clips:
            clips.append(row["clip"])
        hand = row["hand"].lower()
        if hand not in SIDES:
            raise UserError(f"{path}:{line}: hand must be left or right, got {row['hand']!r}")
        start, end = (integer(path, line, c, row[c]) for c in ("start_frame", "end_frame"))
        if end < start:
            raise UserError(f"{path}:{line}: end_frame {end} is before start_frame {start}")
        if row["clip"] == clip:
            contacts.append(Contact(row["clip"], hand, start, end, row["object"]))
    if not contacts:
        known = ", ".join(clips) if clips else "none"
        raise UserError(f"{path}: no contact for clip {clip!r} (the video's file stem); clips there: {known}")
    return contacts


def fit_contacts(
    contacts: Sequence[Contact], frames: int, trimmed: bool, source: str | Path = "contacts"
) -> tuple[list[Contact], list[str]]:
    """The contacts within the frames scored, ``0 .. frames - 1``, and warnings about the ones changed.

    ``trimmed``: the run stopped before the clip's end (``--max-frames``): a contact that starts
    after the last scored frame is left out and one that runs past it ends there, silently (that
    is what a shorter run means). Otherwise the whole clip was scored, and a contact that starts
    after its last frame is an error (`UserError` naming ``source``: most likely the contacts of
    another video), while one that only ends after it is cut there with a one-line warning.

    Example:
        >>> cs = [Contact("c", "left", 2, 8, "cup"), Contact("c", "right", 6, 12, "lid")]
        >>> fit_contacts(cs, 5, trimmed=True)
        ([Contact(clip='c', hand='left', start=2, end=4, object='cup')], [])
        >>> fit_contacts(cs, 10, trimmed=False)[1]
        ["contacts: contact right 6-12 (lid) of clip 'c' ends after the clip's last frame 9: cut there"]
    """
    kept: list[Contact] = []
    warnings: list[str] = []
    last = frames - 1
    for contact in contacts:
        what = f"contact {contact.hand} {contact.start}-{contact.end} ({contact.object}) of clip {contact.clip!r}"
        if contact.start > last:
            if trimmed:
                continue
            raise UserError(
                f"{source}: {what} starts after the clip's last frame {last} ({frames} frames processed): "
                "are these the contacts of another video?"
            )
        if contact.end > last:
            if not trimmed:
                warnings.append(f"{source}: {what} ends after the clip's last frame {last}: cut there")
            contact = replace(contact, end=last)
        kept.append(contact)
    return kept, warnings


def relation_intervals(records: Iterable[Mapping[str, Any]], last_frame: int | None = None) -> list[RelationInterval]:
    """Relation intervals from event records, in order of ``relation_id`` (sides not set).

    A ``relation.start`` without its ``relation.end`` ends on ``last_frame`` (default: the last
    ``frame`` among the records).

    Example:
        >>> records = [
        ...     {"type": "relation.start", "frame": 2, "relation_id": 1, "relation": "holding", "hand_id": 3,
        ...      "object_label": "cup"},
        ...     {"type": "relation.end", "frame": 8, "relation_id": 1},
        ...     {"type": "relation.start", "frame": 5, "relation_id": 2, "relation": "near", "hand_id": 3},
        ...     {"type": "tracks", "frame": 11},
        ... ]
        >>> [(r.relation_id, r.relation, r.start, r.end) for r in relation_intervals(records)]
        [(1, 'holding', 2, 8), (2, 'near', 5, 11)]
    """
    starts: dict[int, Mapping[str, Any]] = {}
    ends: dict[int, int] = {}
    latest = -1
    for record in records:
        if isinstance(record.get("frame"), int):
            latest = max(latest, record["frame"])
        if record.get("type") == "relation.start":
            starts[int(record["relation_id"])] = record
        elif record.get("type") == "relation.end":
            ends[int(record["relation_id"])] = int(record["frame"])
    stop = latest if last_frame is None else last_frame
    return [
        RelationInterval(
            relation_id=rid,
            relation=str(start["relation"]),
            hand_id=int(start["hand_id"]),
            start=int(start["frame"]),
            end=ends.get(rid, max(stop, int(start["frame"]))),
            object_label=str(start.get("object_label", "")),
        )
        for rid, start in sorted(starts.items())
    ]


def majority_side(votes: Iterable[str | None]) -> str | None:
    """The side most votes give (``None`` votes ignored); ``None`` without votes or on a tie.

    >>> majority_side(["left", "left", "right", None]), majority_side(["left", "right"]), majority_side([None])
    ('left', None, None)
    """
    counts = Counter(v.strip().lower() for v in votes if v is not None)
    ranked = counts.most_common(2)
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _centre(box: Sequence[float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0


def nearest_label_side(track_box: Sequence[float], labels: Sequence[tuple[str, Sequence[float]]]) -> str | None:
    """The hand of the labelled box whose centre is nearest the track box's centre; ``None`` on a tie
    between different hands or without labels.

    >>> nearest_label_side((0, 0, 10, 10), [("left", (0, 0, 12, 12)), ("right", (40, 0, 50, 10))])
    'left'
    """
    cx, cy = _centre(track_box)
    best: tuple[float, set[str]] = (math.inf, set())
    for hand, box in labels:
        lx, ly = _centre(box)
        distance = math.hypot(lx - cx, ly - cy)
        if distance < best[0]:
            best = (distance, {str(hand).strip().lower()})
        elif distance == best[0]:
            best[1].add(str(hand).strip().lower())
    return next(iter(best[1])) if len(best[1]) == 1 else None


def track_side_votes(relation: RelationInterval, hand_tracks: HandTracks) -> list[str | None]:
    """The hand track's ``side`` on each of the relation's frames where the track is reported."""
    votes: list[str | None] = []
    for frame in range(relation.start, relation.end + 1):
        track = hand_tracks.get(frame, {}).get(relation.hand_id)
        if track is not None:
            votes.append(track[1])
    return votes


def label_side_votes(
    relation: RelationInterval,
    hand_tracks: HandTracks,
    labels: HandLabels,
) -> list[str | None]:
    """On each of the relation's frames with the hand track and hand labels: the nearest label's hand."""
    votes: list[str | None] = []
    for frame in range(relation.start, relation.end + 1):
        track = hand_tracks.get(frame, {}).get(relation.hand_id)
        if track is not None and labels.get(frame):
            votes.append(nearest_label_side(track[0], labels[frame]))
    return votes


def with_sides(
    relations: Iterable[RelationInterval],
    hand_tracks: HandTracks,
    labels: HandLabels | None = None,
) -> list[RelationInterval]:
    """Each relation with its hand's side: the majority of the track's sides, or with ``labels``
    (``{frame: [(hand, box), ...]}``, as from `load_hand_labels`) of the nearest labelled hands.

    ``hand_tracks`` is ``{frame: {track_id: (box, side)}}`` of the hand tracker.

    Example:
        >>> tracks = {f: {1: ((0, 0, 10, 10), "right" if f < 3 else "left")} for f in range(5)}
        >>> r = RelationInterval(1, "holding", 1, 0, 4)
        >>> with_sides([r], tracks)[0].side, with_sides([r], tracks, {0: [("left", (0, 0, 9, 9))]})[0].side
        ('right', 'left')
    """
    out = []
    for relation in relations:
        votes = (
            track_side_votes(relation, hand_tracks)
            if labels is None
            else label_side_votes(relation, hand_tracks, labels)
        )
        out.append(replace(relation, side=majority_side(votes)))
    return out
