"""``eval-tracking``: run a pipeline's tracker over a labelled video and score it with motmetrics.

Only the detector the tracker follows is run (in deterministic mode), so the figures measure
the hand detector and the tracker, not the rest of the pipeline. ``--tracker none`` replaces the
tracker with the baseline: raw per-frame detections, ids by nearest-box matching to the
previous frame. ``--every-n-frames K`` overrides the tracked detector's schedule (and that of the
detectors it takes its input from, if any), so a pipeline is scored as it would track with the
detector running on every K-th frame only.

``--labels`` is an EgoDex-style CSV (``frame,hand,xmin,ymin,xmax,ymax``) or MOTChallenge text
(``gt.txt``, 1-based frames; `orchestrator.evaluation.tracking.load_track_labels`).

``--match iou`` (the default, at ``--min-iou``, 0.5) or ``--match centre`` (a track's box centre
within half the label box's diagonal of its centre) chooses how a track matches a label
(`orchestrator.evaluation.tracking`); the result names the rule (``match``, ``min_iou``). When the
tracks carry a side (``left`` / ``right``), ``side_accuracy`` is the share of matched pairs whose
track side is the label's hand, over ``side_pairs`` matched pairs with a side; ``None`` without sides.

The baseline is made comparable with the tracker it replaces (`baseline_params`): it reports the
detections the tracker would start tracks from (``min_score`` = the tracker's ``high_score``) and
carries ids with the tracker's IoU gate (``min_iou``) and ``class_aware`` setting, each taken
from the pipeline's tracker parameters or, where the pipeline leaves one out, the tracker's
default. Without that the baseline would run with its own defaults (``min_score`` 0.5,
``min_iou`` 0.3) whatever the pipeline's tracker uses, and the comparison would measure the
thresholds as much as the tracking. Any other replacement tracker runs with its defaults. The
parameters the evaluated tracker ran with are part of the result (``tracker_params``).

Example:
    $ python -m orchestrator eval-tracking --pipeline pipelines/hands_only.yaml \\
        --source ../shared/data/egodex/add_remove_lid_0.mp4 \\
        --labels ../shared/data/egodex/add_remove_lid_0_hands.csv --every-n-frames 3 --match centre --json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError

#: Baseline (``none``) parameter <- parameter of the tracker it replaces, when that tracker has it.
BASELINE_FROM_TRACKER = {"min_score": "high_score", "min_iou": "min_iou", "class_aware": "class_aware"}


def baseline_params(tracker_class: type, params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of the ``none`` baseline equivalent to a tracker's: same score bar, same gates.

    ``min_score`` is the score a detection needs to start a track (``high_score``), ``min_iou`` the
    IoU gate and ``class_aware`` the label rule, each from ``params`` or else from the default in
    the tracker's ``params_schema``. A parameter the tracker does not have keeps the baseline's
    default.

    Example:
        >>> from trackers.sort import SortTracker
        >>> baseline_params(SortTracker, {"high_score": 0.3, "min_hits": 2})
        {'min_score': 0.3, 'min_iou': 0.2, 'class_aware': False}
    """
    schema = getattr(tracker_class, "params_schema", {}).get("properties", {})
    chosen: dict[str, Any] = {}
    for name, source in BASELINE_FROM_TRACKER.items():
        if source in params:
            chosen[name] = params[source]
        elif "default" in schema.get(source, {}):
            chosen[name] = schema[source]["default"]
    return chosen


def _detector_inputs(spec: Any) -> tuple[str, ...]:
    """Names of the detectors whose output ``spec`` takes as input (a second stage), if the spec has any."""
    value = getattr(spec, "input", None)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Mapping):
        value = value.get("detector")
        return (value,) if isinstance(value, str) else ()
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, (list, tuple)) else ()


def tracked_chain(config: Any, name: str) -> list[str]:
    """The tracked detector ``name`` and, before it, every detector it takes its input from (transitively)."""
    chain: list[str] = []

    def visit(current: str) -> None:
        if current in chain:
            return
        for upstream in _detector_inputs(config.detector(current)):
            visit(upstream)
        chain.append(current)

    visit(name)
    return chain


def evaluate_tracking(
    pipeline: str | Path,
    source: str,
    labels: str | Path,
    every_n_frames: int | None = None,
    tracker: str | None = None,
    min_iou: float = 0.5,
    max_frames: int | None = None,
    match: str = "iou",
) -> dict[str, Any]:
    """Run the pipeline's tracked detector and tracker over ``source``; return the metrics dict.

    ``tracker`` replaces the pipeline's tracker type; ``"none"`` runs the raw-detection baseline
    with `baseline_params` of the replaced tracker. Besides the `TrackingMetrics` fields the dict
    holds ``tracker``, ``tracker_params`` (what the evaluated tracker ran with; the pipeline's own
    tracker also uses its defaults for anything not listed), ``every_n_frames`` and ``detector_runs``.
    ``match`` is ``"iou"`` (a match needs IoU >= ``min_iou``) or ``"centre"``; the dict says which
    (``match``, ``min_iou``), and holds ``side_accuracy`` / ``side_pairs`` (see the module docstring).
    """
    from orchestrator.config import load_pipeline
    from orchestrator.errors import RegistryError
    from orchestrator.evaluation.tracking import MATCH_RULES, load_track_labels, tracking_metrics
    from orchestrator.registry import TRACKERS
    from orchestrator.runtime import Runtime

    if match not in MATCH_RULES:
        raise UserError(f"--match must be one of {', '.join(MATCH_RULES)}, got {match!r}")
    if match == "iou" and not (0.0 < min_iou <= 1.0):
        raise UserError(f"--min-iou must lie in (0, 1], got {min_iou}")
    if every_n_frames is not None and every_n_frames < 1:
        raise UserError(f"--every-n-frames must be >= 1, got {every_n_frames}")
    config = load_pipeline(pipeline)
    if config.tracker is None:
        raise UserError(f"{pipeline}: the pipeline has no tracker: section to evaluate")
    gt = load_track_labels(labels)
    # Only the tracked detector runs, with any detector it takes its input from (a second stage).
    specs = [config.detector(name) for name in tracked_chain(config, config.tracker.detector)]
    if every_n_frames is not None:
        specs = [dataclasses.replace(s, every_n_frames=every_n_frames, max_fps=None) for s in specs]
    spec = specs[-1]
    tracker_spec = config.tracker
    if tracker is not None and tracker != tracker_spec.type:
        try:
            entry = TRACKERS.get(tracker)
        except RegistryError as exc:
            raise UserError(str(exc)) from exc
        # Another tracker type cannot take this one's parameters: the baseline gets the equivalent
        # ones (a fair comparison), any other tracker runs with its defaults.
        params = baseline_params(tracker_spec.tracker_class, tracker_spec.params) if tracker == "none" else {}
        tracker_spec = dataclasses.replace(tracker_spec, type=tracker, tracker_class=entry.obj, params=params)
    # Relations need the object detector, which does not run here.
    config = dataclasses.replace(
        config, detectors=tuple(specs), tracker=tracker_spec, relations=None, object_tracker=None
    )

    predictions: dict[int, list[tuple[int, tuple[float, ...], str | None]]] = {}
    summary: dict[str, Any] = {}
    runtime = Runtime(config, source=source, mode="deterministic", max_frames=max_frames, records=("tracks",))
    for record in runtime.records():
        if record["type"] == "tracks":
            # ``side`` only where the tracker reports one (tracks from before sides have none).
            predictions[record["frame"]] = [(t["track_id"], tuple(t["box"]), t.get("side")) for t in record["tracks"]]
        elif record["type"] == "summary":
            summary = record
    # Up to the last frame processed: its index is its position in the video, past any skipped frames.
    frames = range(int(summary["frame"]) + 1)
    metrics = tracking_metrics(gt, predictions, frames, min_iou=min_iou, match=match).to_dict()
    metrics.update(
        tracker=tracker_spec.type,
        tracker_params=dict(tracker_spec.params),
        every_n_frames=spec.every_n_frames,
        detector_runs=summary["detectors"][spec.name]["runs"],
    )
    return metrics


def match_text(metrics: Mapping[str, Any]) -> str:
    """The matching rule of a result in words.

    >>> match_text({"match": "iou", "min_iou": 0.5}), match_text({"match": "centre", "min_iou": None})
    ('IoU >= 0.5', 'centre within half the label diagonal')
    """
    if metrics.get("match") == "centre":
        return "centre within half the label diagonal"
    return f"IoU >= {metrics.get('min_iou')}"


def cmd_eval_tracking(args: argparse.Namespace) -> int:
    if args.match == "centre" and args.min_iou is not None:
        raise UserError("--min-iou applies to --match iou only; --match centre has its own gate")
    metrics = evaluate_tracking(
        args.pipeline,
        args.source,
        args.labels,
        every_n_frames=args.every_n_frames,
        tracker=args.tracker,
        min_iou=0.5 if args.min_iou is None else args.min_iou,
        max_frames=args.max_frames,
        match=args.match,
    )
    if args.json:
        print(json.dumps(metrics))
        return 0

    def show(value: Any) -> str:
        return "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))

    print(
        f"tracker {metrics['tracker']}, detector every {metrics['every_n_frames']} frame(s), "
        f"{metrics['frames']} frames, match: {match_text(metrics)}"
    )
    for key in ("mota", "idf1", "id_switches", "mostly_tracked", "mostly_lost", "mean_iou"):
        print(f"  {key:<15} {show(metrics[key])}")
    if metrics.get("side_accuracy") is None:
        print(f"  {'side_accuracy':<15} n/a (no matched track carries a side)")
    else:
        print(f"  {'side_accuracy':<15} {show(metrics['side_accuracy'])} over {metrics['side_pairs']} matched pairs")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eval-tracking",
        help="score a pipeline's tracker against per-frame hand labels (MOTA, IDF1, ...)",
        description="Run the tracked detector and the tracker over VIDEO and compare with labelled hand boxes.",
    )
    parser.add_argument("--pipeline", required=True, metavar="P", help="pipeline YAML with a tracker: section")
    parser.add_argument("--source", required=True, metavar="VIDEO")
    parser.add_argument(
        "--labels",
        required=True,
        metavar="FILE",
        help="CSV frame,hand,xmin,ymin,xmax,ymax,... (hand is the identity), or MOTChallenge text "
        "(gt.txt: frame,id,bb_left,bb_top,bb_width,bb_height,conf,...; 1-based frames), told apart by content",
    )
    parser.add_argument("--every-n-frames", type=int, metavar="K", help="run the hand detector on every K-th frame")
    parser.add_argument(
        "--tracker",
        metavar="NAME",
        help="another tracker type; 'none' is the raw-detection baseline, run with the replaced tracker's "
        "score bar for starting tracks (min_score = high_score), IoU gate (min_iou) and class_aware",
    )
    parser.add_argument(
        "--match",
        choices=("iou", "centre"),
        default="iou",
        help="how a track matches a label: 'iou' (IoU >= --min-iou, the default) or 'centre' (the track box's "
        "centre within half the label box's diagonal of its centre; tolerates labels in another box convention)",
    )
    parser.add_argument(
        "--min-iou", type=float, default=None, help="with --match iou: IoU for a match with a label (default 0.5)"
    )
    parser.add_argument("--max-frames", type=int, metavar="N", help="only the first N frames")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (mota, idf1, id_switches, mostly_tracked, mostly_lost, mean_iou, frames, "
        "match, min_iou, side_accuracy, side_pairs, tracker, tracker_params, ...)",
    )
    parser.set_defaults(handler=cmd_eval_tracking)
