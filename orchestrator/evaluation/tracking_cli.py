"""``eval-tracking``: run a pipeline's tracker over a labelled video and score it with motmetrics.

Only the detector the tracker follows is run (in deterministic mode), so the figures measure
the hand detector and the tracker, not the rest of the pipeline. ``--tracker none`` replaces the
tracker with the baseline: raw per-frame detections, ids by nearest-box matching to the
previous frame. ``--every-n-frames K`` overrides the tracked detector's schedule.

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
        --labels ../shared/data/egodex/add_remove_lid_0_hands.csv --every-n-frames 3 --json
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


def evaluate_tracking(
    pipeline: str | Path,
    source: str,
    labels: str | Path,
    every_n_frames: int | None = None,
    tracker: str | None = None,
    min_iou: float = 0.5,
    max_frames: int | None = None,
) -> dict[str, Any]:
    """Run the pipeline's tracked detector and tracker over ``source``; return the metrics dict.

    ``tracker`` replaces the pipeline's tracker type; ``"none"`` runs the raw-detection baseline
    with `baseline_params` of the replaced tracker. Besides the `TrackingMetrics` fields the dict
    holds ``tracker``, ``tracker_params`` (what the evaluated tracker ran with; the pipeline's own
    tracker also uses its defaults for anything not listed), ``every_n_frames`` and ``detector_runs``.
    """
    from orchestrator.config import load_pipeline
    from orchestrator.errors import RegistryError
    from orchestrator.evaluation.tracking import load_hand_labels, tracking_metrics
    from orchestrator.registry import TRACKERS
    from orchestrator.runtime import Runtime

    config = load_pipeline(pipeline)
    if config.tracker is None:
        raise UserError(f"{pipeline}: the pipeline has no tracker: section to evaluate")
    gt = load_hand_labels(labels)
    spec = config.detector(config.tracker.detector)
    if every_n_frames is not None:
        if every_n_frames < 1:
            raise UserError(f"--every-n-frames must be >= 1, got {every_n_frames}")
        spec = dataclasses.replace(spec, every_n_frames=every_n_frames, max_fps=None)
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
    config = dataclasses.replace(config, detectors=(spec,), tracker=tracker_spec)

    predictions: dict[int, list[tuple[int, tuple[float, ...]]]] = {}
    summary: dict[str, Any] = {}
    runtime = Runtime(config, source=source, mode="deterministic", max_frames=max_frames, records=("tracks",))
    for record in runtime.records():
        if record["type"] == "tracks":
            predictions[record["frame"]] = [(t["track_id"], tuple(t["box"])) for t in record["tracks"]]
        elif record["type"] == "summary":
            summary = record
    frames = range(int(summary["frames"]["processed"]))
    metrics = tracking_metrics(gt, predictions, frames, min_iou=min_iou).to_dict()
    metrics.update(
        tracker=tracker_spec.type,
        tracker_params=dict(tracker_spec.params),
        every_n_frames=spec.every_n_frames,
        detector_runs=summary["detectors"][spec.name]["runs"],
    )
    return metrics


def cmd_eval_tracking(args: argparse.Namespace) -> int:
    metrics = evaluate_tracking(
        args.pipeline,
        args.source,
        args.labels,
        every_n_frames=args.every_n_frames,
        tracker=args.tracker,
        min_iou=args.min_iou,
        max_frames=args.max_frames,
    )
    if args.json:
        print(json.dumps(metrics))
        return 0

    def show(value: Any) -> str:
        return "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))

    print(
        f"tracker {metrics['tracker']}, detector every {metrics['every_n_frames']} frame(s), {metrics['frames']} frames"
    )
    for key in ("mota", "idf1", "id_switches", "mostly_tracked", "mostly_lost", "mean_iou"):
        print(f"  {key:<15} {show(metrics[key])}")
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
        "--labels", required=True, metavar="CSV", help="frame,hand,xmin,ymin,xmax,ymax,... (hand is the identity)"
    )
    parser.add_argument("--every-n-frames", type=int, metavar="K", help="run the hand detector on every K-th frame")
    parser.add_argument(
        "--tracker",
        metavar="NAME",
        help="another tracker type; 'none' is the raw-detection baseline, run with the replaced tracker's "
        "score bar for starting tracks (min_score = high_score), IoU gate (min_iou) and class_aware",
    )
    parser.add_argument("--min-iou", type=float, default=0.5, help="IoU for a match with a label (default 0.5)")
    parser.add_argument("--max-frames", type=int, metavar="N", help="only the first N frames")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (mota, idf1, id_switches, mostly_tracked, mostly_lost, mean_iou, frames, "
        "tracker, tracker_params, ...)",
    )
    parser.set_defaults(handler=cmd_eval_tracking)
