"""``export EVENTS --to mot|coco|csv [--out PATH]``: an events file in another tool's format.

- ``mot``: the tracks as MOTChallenge text (`orchestrator.exports.mot`); ``--detector`` picks the
  tracker when the file holds the tracks of two (hands and objects).
- ``coco``: the detections as COCO JSON with ``images``, ``categories`` and ``annotations``
  (`orchestrator.exports.coco`); ``--results-only`` writes the bare results list instead;
  ``--detector`` keeps one detector's detections.
- ``csv``: the relations as an interval table (`orchestrator.exports.intervals`).

The output goes to ``--out`` (stdout without it, or with ``-``). A file that is not an events
file, of a schema version this package does not read, or without the records the format needs
is a one-line error and exit 2.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="orchestrator")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["export", "events.jsonl", "--to", "mot", "--out", "tracks.txt"])
    >>> args.events, args.to, args.out
    ('events.jsonl', 'mot', 'tracks.txt')
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from orchestrator.cli.console import eprint
from orchestrator.errors import EXIT_OK, UserError

#: The formats of ``--to``.
FORMATS: tuple[str, ...] = ("mot", "coco", "csv")


def export_text(events_path: str | Path, to: str, detector: str | None = None, results_only: bool = False) -> str:
    """The events file ``events_path`` in format ``to`` (one of `FORMATS`), as text.

    Raises `UserError` for an unknown format, an option the format does not take, or an events
    file the format cannot use (see `orchestrator.exports`).
    """
    from orchestrator.exports.coco import export_coco
    from orchestrator.exports.events_file import read_events
    from orchestrator.exports.intervals import export_intervals
    from orchestrator.exports.mot import export_mot

    if to not in FORMATS:
        raise UserError(f"--to must be one of {', '.join(FORMATS)}, got {to!r}")
    if results_only and to != "coco":
        raise UserError(f"--results-only applies to --to coco, not --to {to}")
    if detector is not None and to == "csv":
        raise UserError("--detector applies to --to mot and --to coco; the interval table holds every relation")
    events = read_events(events_path)
    if events.cut_last_line:
        eprint(f"warning: {events_path}: last line cut short (a run killed mid-write); exported the records before it")
    if to == "mot":
        return export_mot(events, detector)
    if to == "coco":
        return json.dumps(export_coco(events, detector, results_only), separators=(",", ":")) + "\n"
    return export_intervals(events)


def cmd_export(args: argparse.Namespace) -> int:
    from orchestrator.outputs import check_output

    if args.out not in (None, "-"):
        # Before anything is read: an --out that is the events file would replace the run's records.
        check_output(args.out, "--out", {"events file": args.events})
    text = export_text(args.events, args.to, detector=args.detector, results_only=args.results_only)
    if args.out in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    out = Path(args.out)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from exc
    eprint(f"wrote {out} ({args.to})")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``export`` command to an argparse ``subparsers`` object."""
    parser = subparsers.add_parser(
        "export",
        help="an events file as MOTChallenge tracks, COCO detections or a CSV table of relations",
        description="Convert EVENTS (JSON Lines from run --events): tracks to MOTChallenge text (mot), "
        "detections to COCO JSON (coco), relations to an interval table (csv).",
    )
    parser.add_argument("events", metavar="EVENTS", help="events file written by run --events")
    parser.add_argument("--to", required=True, choices=FORMATS, help="mot, coco or csv")
    parser.add_argument("--out", metavar="PATH", help="output file (default: stdout)")
    parser.add_argument(
        "--detector",
        metavar="NAME",
        help="mot: the tracks of the tracker following detector NAME (needed when the file has two trackers' tracks); "
        "coco: only detector NAME's detections",
    )
    parser.add_argument(
        "--results-only", action="store_true", help="coco: write the bare results list (no images or categories)"
    )
    parser.set_defaults(handler=cmd_export)
