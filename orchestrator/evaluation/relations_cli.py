"""``eval-relations``: run a pipeline over a video and score its relation events against labelled contacts.

The whole pipeline runs (in deterministic mode, through the Python runtime), with ``tracks``
records on whatever the pipeline's ``outputs.records`` says, since the hand tracks give each
relation its side. The labelled contacts are the rows of ``--contacts`` whose ``clip`` is the
video's file stem; the rules (temporal IoU >= ``--min-tiou`` on the same hand side, relation kinds
from ``--kinds``) are those of `orchestrator.evaluation.relations`.

A relation's side is the majority, over the relation's frames, of its hand track's ``side``
(tracks carry one when the hand detector gives sides), or with ``--hands`` of the hand of the
labelled box (an egodex ``*_hands.csv``) whose centre is nearest the track box's centre. A
relation whose side stays unknown (no votes, or a tie) matches no contact.

``--json`` prints ``{"overall": counts, "by_relation": {name: counts}, ...}`` with counts
``contacts, found, relations, matched, recall, precision``; the other top-level keys (``clip``,
``kinds``, ``min_tiou``, ``sides``, ``frames``, ``warnings``, ``detail``) describe the run.

The contacts are scored over the frames processed: with ``--max-frames N`` a contact after frame
N - 1 is left out and one running past it is cut there. On a whole clip, a contact that starts
after the clip's last frame is an error (the contacts of another video?) and one that ends after
it is cut with a one-line warning on stderr. A ``--source`` file that does not exist is an error
of its own (the clip's name is its file stem).

Example:
    $ python -m orchestrator eval-relations --pipeline pipelines/table_scene.yaml \\
        --source ../shared/data/egodex/add_remove_lid_0.mp4 --contacts ../shared/data/egodex/contacts.csv --json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError
from orchestrator.evaluation.relations import COUNT_KEYS, DEFAULT_KINDS, DEFAULT_MIN_TIOU


def parse_kinds(text: str) -> tuple[str, ...]:
    """``"holding, touching"`` -> ``("holding", "touching")``; duplicates dropped, empty refused.

    >>> parse_kinds("holding, touching,holding")
    ('holding', 'touching')
    """
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    if not kinds:
        raise UserError(f"--kinds needs at least one relation name, got {text!r}")
    return kinds


def evaluate_relations(
    pipeline: str | Path,
    source: str,
    contacts: str | Path,
    hands: str | Path | None = None,
    kinds: Sequence[str] = DEFAULT_KINDS,
    min_tiou: float = DEFAULT_MIN_TIOU,
    max_frames: int | None = None,
) -> dict[str, Any]:
    """Run ``pipeline`` over ``source`` and score its relations against the clip's labelled contacts.

    Returns `orchestrator.evaluation.relations.score_relations`'s dict (``overall``,
    ``by_relation``, ``detail``) with ``clip``, ``kinds``, ``min_tiou``, ``sides`` (``"tracks"`` or
    ``"labels"``), ``frames`` (frames processed) and ``warnings`` (contacts cut at the clip's end).
    The contacts are scored over the frames processed: with ``max_frames`` the ones after them are
    left out and the ones running past them cut (`orchestrator.evaluation.relations.fit_contacts`).
    Raises `UserError` for bad input (a source file that does not exist, contacts, hand labels, a
    kind the pipeline does not report, a threshold outside (0, 1], ``max_frames`` < 1, a contact
    starting after the clip's last frame).
    """
    from orchestrator.config import load_pipeline
    from orchestrator.config.env import is_url
    from orchestrator.evaluation.relations import (
        fit_contacts,
        load_contacts,
        relation_intervals,
        score_relations,
        with_sides,
    )
    from orchestrator.evaluation.tracking import load_hand_labels
    from orchestrator.runtime import Runtime

    # The clip is the source's file stem: a mistyped path would otherwise read as "no contact for clip".
    text = str(source)
    if not is_url(text) and not text.isdigit() and not Path(text).expanduser().exists():
        raise UserError(f"--source {text}: no such file")
    if not (0.0 < min_tiou <= 1.0):
        raise UserError(f"--min-tiou must lie in (0, 1], got {min_tiou}")
    if max_frames is not None and max_frames < 1:
        raise UserError(f"--max-frames must be at least 1, got {max_frames}")
    kinds = tuple(dict.fromkeys(kinds))
    clip = Path(str(source)).stem
    labelled = load_contacts(contacts, clip)
    labels = load_hand_labels(hands) if hands is not None else None
    config = load_pipeline(pipeline)
    if config.relations is None or config.tracker is None:
        raise UserError(f"{pipeline}: the pipeline has no relations: section (and hand tracker) to evaluate")
    reported = [r.name for r in config.relations.relations]
    unknown = [k for k in kinds if k not in reported]
    if unknown:
        raise UserError(
            f"--kinds: {', '.join(unknown)} not among the pipeline's relations ({', '.join(reported) or 'none'})"
        )
    hand_detector = config.tracker.detector
    hand_tracks: dict[int, dict[int, tuple[tuple[float, ...], str | None]]] = {}
    records: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    # Hand tracks give the relations their sides: tracks records whatever ``outputs.records`` says
    # (and only those of the per-frame records: detections would only cost time).
    runtime = Runtime(config, source=source, mode="deterministic", max_frames=max_frames, records=("tracks",))
    for record in runtime.records():
        kind = record["type"]
        if kind == "tracks":
            # The hand tracker's record (the object tracker's names the object detector).
            if record.get("detector") == hand_detector and record["frame"] not in hand_tracks:
                hand_tracks[record["frame"]] = {
                    t["track_id"]: (tuple(t["box"]), t.get("side")) for t in record["tracks"]
                }
        elif kind.startswith("relation."):
            records.append(record)
        elif kind == "summary":
            summary = record
    # Frames 0 to the last processed: its index is its position in the video, past any skipped frames.
    frames = int(summary.get("frame", -1)) + 1
    if frames == 0:
        raise UserError(f"--source {text}: no frame was processed")
    labelled, warnings = fit_contacts(
        labelled, frames, trimmed=max_frames is not None and frames >= max_frames, source=contacts
    )
    intervals = with_sides(relation_intervals(records, last_frame=frames - 1), hand_tracks, labels)
    result = score_relations(labelled, intervals, kinds=kinds, min_tiou=min_tiou)
    result.update(
        clip=clip,
        kinds=list(kinds),
        min_tiou=min_tiou,
        sides="tracks" if labels is None else "labels",
        frames=frames,
        warnings=warnings,
    )
    return result


def format_table(result: dict[str, Any]) -> str:
    """The text report: one row per relation kind and one overall, then each contact and what found it.

    >>> from orchestrator.evaluation.relations import Contact, RelationInterval, score_relations
    >>> r = score_relations([Contact("c", "left", 0, 9, "cup")], [RelationInterval(1, "holding", 1, 0, 9, "left")])
    >>> r.update(clip="c", kinds=["holding", "touching"], min_tiou=0.3, sides="tracks", frames=20)
    >>> print(format_table(r))  # doctest: +NORMALIZE_WHITESPACE
    clip c: 1 labelled contact(s), 20 frames; kinds holding, touching; tIoU >= 0.3, same side (from tracks)
    relation  contacts  found  relations  matched  recall  precision
    holding          1      1          1        1  1.0000     1.0000
    touching         1      0          0        0  0.0000        n/a
    overall          1      1          1        1  1.0000     1.0000
    contact left 0-9 cup: found by relation(s) 1
    """

    def show(value: Any) -> str:
        return "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))

    rows = [*result["by_relation"].items(), ("overall", result["overall"])]
    width = max(len("relation"), *(len(name) for name, _ in rows))
    lines = [
        f"clip {result.get('clip')}: {result['overall']['contacts']} labelled contact(s), {result.get('frames')} "
        f"frames; kinds {', '.join(result.get('kinds', []))}; tIoU >= {result.get('min_tiou')}, same side "
        f"(from {result.get('sides')})",
        f"{'relation':<{width}}  contacts  found  relations  matched  recall  precision",
    ]
    for name, counts in rows:
        c = {k: show(counts[k]) for k in COUNT_KEYS}
        lines.append(
            f"{name:<{width}}  {c['contacts']:>8}  {c['found']:>5}  {c['relations']:>9}  {c['matched']:>7}  "
            f"{c['recall']:>6}  {c['precision']:>9}"
        )
    for contact in result.get("detail", {}).get("contacts", []):
        found = ", ".join(map(str, contact["found_by"])) or "none"
        lines.append(
            f"contact {contact['hand']} {contact['start_frame']}-{contact['end_frame']} {contact['object']}: "
            f"found by relation(s) {found}"
        )
    return "\n".join(lines)


def cmd_eval_relations(args: argparse.Namespace) -> int:
    result = evaluate_relations(
        args.pipeline,
        args.source,
        args.contacts,
        hands=args.hands,
        kinds=parse_kinds(args.kinds),
        min_tiou=args.min_tiou,
        max_frames=args.max_frames,
    )
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps(result) if args.json else format_table(result))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eval-relations",
        help="score a pipeline's relation events against labelled contact intervals (recall, precision)",
        description="Run the pipeline over VIDEO and compare its contact relations with the labelled contacts "
        "of that clip (rows whose clip is VIDEO's file stem): same hand side, temporal IoU >= --min-tiou.",
    )
    parser.add_argument("--pipeline", required=True, metavar="P", help="pipeline YAML with a relations: section")
    parser.add_argument("--source", required=True, metavar="VIDEO")
    parser.add_argument(
        "--contacts", required=True, metavar="CSV", help="clip,hand,start_frame,end_frame,object (frames included)"
    )
    parser.add_argument(
        "--hands",
        metavar="CSV",
        help="hand labels (frame,hand,xmin,ymin,xmax,ymax): a relation's side is the hand of the label box "
        "nearest its hand track (majority over its frames) instead of the track's own side",
    )
    parser.add_argument(
        "--kinds",
        default=",".join(DEFAULT_KINDS),
        metavar="NAMES",
        help=f"comma-separated relation names that claim a contact (default {','.join(DEFAULT_KINDS)})",
    )
    parser.add_argument(
        "--min-tiou",
        type=float,
        default=DEFAULT_MIN_TIOU,
        metavar="X",
        help=f"temporal IoU a relation needs with a contact (default {DEFAULT_MIN_TIOU}; exactly X counts)",
    )
    parser.add_argument(
        "--max-frames",
        type=int,
        metavar="N",
        help="only the first N frames; contacts after them are left out, contacts running past them cut",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: overall and by_relation counts (contacts, found, relations, matched, recall, "
        "precision), and clip, kinds, min_tiou, sides, frames, detail",
    )
    parser.set_defaults(handler=cmd_eval_relations)
