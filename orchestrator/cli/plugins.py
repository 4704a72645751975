"""``plugins [--json]``: the registered detector, tracker and sink plugins, with origin, labels and input size.

Example:
    >>> describe_labels(["hand"]), describe_labels([]), describe_labels(list("abcdefg"))
    ('1: hand', '(set by parameters)', '7: a, b, c, d, e, f, ...')
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from orchestrator.errors import EXIT_OK


def describe_labels(labels: Sequence[str], limit: int = 6) -> str:
    """How many labels, and the first ``limit`` of them."""
    if not labels:
        return "(set by parameters)"
    shown = ", ".join(labels[:limit])
    return f"{len(labels)}: {shown}{', ...' if len(labels) > limit else ''}"


def plugin_rows() -> list[dict[str, Any]]:
    """One JSON-ready row per registered plugin: kind, name, origin, source, labels, input_size, params."""
    from orchestrator.registry import DETECTORS, SINKS, TRACKERS

    rows = []
    for entry in DETECTORS.entries():
        cls = entry.obj
        size = getattr(cls, "input_size", None)
        rows.append(
            {
                "kind": "detector",
                "name": entry.name,
                "origin": entry.origin,
                "source": entry.source,
                "labels": list(getattr(cls, "labels", ())),
                "input_size": list(size) if size else None,
                "params": dict(getattr(cls, "params_schema", {})),
            }
        )
    for kind, registry in (("tracker", TRACKERS), ("sink", SINKS)):
        for entry in registry.entries():
            rows.append(
                {
                    "kind": kind,
                    "name": entry.name,
                    "origin": entry.origin,
                    "source": entry.source,
                    "labels": [],
                    "input_size": None,
                    "params": dict(getattr(entry.obj, "params_schema", {})),
                }
            )
    return rows


def cmd_plugins(args: argparse.Namespace) -> int:
    """Print the plugins as a table, or as JSON with ``--json``."""
    rows = plugin_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    header = ("KIND", "NAME", "ORIGIN", "INPUT", "LABELS")
    table = [
        (
            r["kind"],
            r["name"],
            f"{r['origin']} ({r['source']})",
            "x".join(map(str, r["input_size"])) if r["input_size"] else "any",
            describe_labels(r["labels"]) if r["kind"] == "detector" else "-",
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print("\nA plugin can also be named in a pipeline as package.module:ClassName (origin: dotted path).")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add the ``plugins`` command to an argparse ``subparsers`` object."""
    plugins = subparsers.add_parser(
        "plugins",
        help="list detector, tracker and sink plugins",
        description="List registered plugins with their origin, labels and input size.",
    )
    plugins.add_argument("--json", action="store_true", help="print a JSON list, with each plugin's parameter schema")
    plugins.set_defaults(handler=cmd_plugins)
