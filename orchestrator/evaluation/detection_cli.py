"""``eval`` command: a detector's AP, precision and recall on a labelled image folder.

Example (wired into the main CLI)::

    python -m orchestrator eval --detector hands.egohands --images ../shared/data/egohands/test \\
        --labels ../shared/data/egohands/test/test_labels.csv --plot out/pr.png --json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError


def _param(text: str) -> tuple[str, Any]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, yaml.safe_load(value)


def register(subparsers: Any) -> None:
    """Add the ``eval`` command to an argparse ``subparsers`` object (``handler`` = `cmd_eval`).

    Example:
        >>> parser = argparse.ArgumentParser(prog="orchestrator")
        >>> register(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["eval", "--detector", "hands.egohands", "--images", "d", "--labels", "l.csv",
        ...                           "--param", "precision=int8"])
        >>> args.param
        [('precision', 'int8')]
    """
    p = subparsers.add_parser("eval", help="detector AP (COCO, pycocotools), precision and recall on labelled images")
    p.add_argument("--detector", required=True, metavar="NAME")
    p.add_argument("--images", required=True, type=Path, metavar="DIR")
    p.add_argument(
        "--labels",
        required=True,
        type=Path,
        metavar="CSV|DIR",
        help="EgoHands CSV (filename,width,height,class,xmin,ymin,xmax,ymax) or YOLO label folder",
    )
    p.add_argument("--names", type=Path, metavar="YAML", help="class names for a YOLO label folder")
    p.add_argument(
        "--param",
        type=_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="detector parameter (YAML value), e.g. precision=int8; repeatable",
    )
    p.add_argument("--plot", type=Path, metavar="PNG", help="write the precision-recall curve here")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(handler=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    """Run the evaluation and print the figures."""
    from orchestrator.evaluation.detection import evaluate, load_labels

    if not args.images.is_dir():
        raise UserError(f"{args.images}: no such image folder")
    dataset = load_labels(args.labels, args.images, args.names)
    result = evaluate(args.detector, dataset, dict(args.param), plot=args.plot)
    if args.json:
        print(json.dumps({"detector": args.detector, **result.to_json()}, indent=2))
    else:
        print(f"{args.detector} on {args.images}: {result.images} images, {result.boxes} boxes")
        print(
            f"AP@0.5 {result.ap50:.3f}  AP@[.5:.95] {result.ap50_95:.3f}  "
            f"precision {result.precision:.3f}  recall {result.recall:.3f}"
        )
        print(f"metric: {result.metric}")
        if args.plot:
            print(f"precision-recall plot: {args.plot}")
    return 0
