"""``eval-tracking``: run a pipeline's tracker over a labelled video and score it with motmetrics.

Only the detector the tracker follows is run (in deterministic mode), so the figures measure
the hand detector and the tracker, not the rest of the pipeline. ``--tracker none`` replaces the
tracker with the baseline: raw per-frame detections, ids by nearest-box matching to the
previous frame. ``--every-n-frames K`` overrides the tracked detector's schedule.

Example:
    $ python -m orchestrator eval-tracking --pipeline pipelines/hands_only.yaml \\
        --source ../shared/data/egodex/add_remove_lid_0.mp4 \\
        --labels ../shared/data/egodex/add_remove_lid_0_hands.csv --every-n-frames 3 --json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError


def evaluate_tracking(
    pipeline: str | Path,
    source: str,
    labels: str | Path,
    every_n_frames: int | None = None,
    tracker: str | None = None,
    min_iou: float = 0.5,
    max_frames: int | None = None,
) -> dict[str, Any]:
    """Run the pipeline's tracked detector and tracker over ``source``; return the metrics dict."""
    from orchestrator.config import load_pipeline
    from orchestrator.evaluation.tracking import load_hand_labels, tracking_metrics
    from orchestrator.registry import TRACKERS, RegistryError
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
        # Another tracker type cannot take this one's parameters: it runs with its defaults.
        tracker_spec = dataclasses.replace(tracker_spec, type=tracker, tracker_class=entry.obj, params={})
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
    parser.add_argument("--tracker", metavar="NAME", help="another tracker type; 'none' is the raw-detection baseline")
    parser.add_argument("--min-iou", type=float, default=0.5, help="IoU for a match with a label (default 0.5)")
    parser.add_argument("--max-frames", type=int, metavar="N", help="only the first N frames")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (mota, idf1, id_switches, mostly_tracked, mostly_lost, mean_iou, frames)",
    )
    parser.set_defaults(handler=cmd_eval_tracking)
