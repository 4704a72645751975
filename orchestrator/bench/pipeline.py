"""``bench-pipeline``: frames per second of a pipeline, sequential against threaded-interleaved.

The seed project (victordibia/handtracking) reported an FPS table by image size and display.
This command measures the same table for a pipeline, side by side in one process:

* **sequential**: one thread reads a frame, runs each scheduled detector in turn, then tracks
  and relates, as the seed's ``detect_single_threaded.py`` does;
* **threaded**: our runtime (reader thread, one worker per detector, fusion), deterministic mode;

each with and without drawing the annotated frame (off-screen: `render`, no window), at
320×240, 640×480 and the native size. Both modes run exactly the same detectors on the same
frames (deterministic schedules), so only the execution model differs.

Example:
    $ python -m orchestrator bench-pipeline pipelines/table_scene.yaml \\
        --source ../shared/data/egodex/basic_pick_and_place_0.mp4 --plot stages.png
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError

SIZES: tuple[tuple[int, int] | None, ...] = ((320, 240), (640, 480), None)


def _sequential(config: Any, source_uri: str, display: bool, max_frames: int | None) -> dict[str, Any]:
    """One thread does everything in turn; returns fps and per-stage milliseconds."""
    from orchestrator.config import instantiate
    from orchestrator.frames import Frame, resize_source
    from orchestrator.render import FrameView, render
    from orchestrator.scene_builder import DetectorResult, SceneBuilder
    from orchestrator.schedules import make_schedule
    from orchestrator.sources import open_source

    source = open_source(source_uri, config.source.fps, decode_threads=config.source.decode_threads)
    detectors = instantiate(config)
    stages: dict[str, list[float]] = defaultdict(list)
    tracked = config.tracked_detectors
    try:
        from orchestrator.modelstore.binding import bind_and_load

        for _, detector in detectors:
            bind_and_load(detector)
        schedules = [(spec, det, make_schedule(spec.every_n_frames, spec.max_fps)) for spec, det in detectors]
        builder = SceneBuilder(config, emit=set(), fps=source.fps)
        frames = 0
        started = time.perf_counter()
        while max_frames is None or frames < max_frames:
            t0 = time.perf_counter()
            item = source.read()
            if item is None:
                break
            bgr, time_s = item
            frame = Frame(frames, time_s, resize_source(bgr, config.source.resize), channel_order="bgr")
            t1 = time.perf_counter()
            stages["read + resize"].append((t1 - t0) * 1000)
            results = []
            for spec, detector, schedule in schedules:
                if schedule.due(frame.index, time_s):
                    t = time.perf_counter()
                    detections = detector.detect_frame(frame.image(detector.channel_order), frame.index, time_s)
                    latency = (time.perf_counter() - t) * 1000
                    stages[f"detect: {spec.name}"].append(latency)
                    results.append(DetectorResult(spec.name, frame.index, time_s, detections, latency))
            t2 = time.perf_counter()
            builder.step(frame.index, time_s, (frame.width, frame.height), results)
            t3 = time.perf_counter()
            stages["track + relate"].append((t3 - t2) * 1000)
            if display:
                render(FrameView(builder.scene, frame.rgb, tracked_detectors=tracked))
                stages["draw"].append((time.perf_counter() - t3) * 1000)
            frames += 1
        elapsed = time.perf_counter() - started
    finally:
        for _, detector in detectors:
            detector.close()
        source.close()
    return {
        "fps": frames / elapsed if elapsed > 0 else 0.0,
        "frames": frames,
        "stages_ms": {name: statistics.median(values) for name, values in stages.items()},
    }


def _threaded(config: Any, source_uri: str, display: bool, max_frames: int | None) -> dict[str, Any]:
    from orchestrator.render import FrameView, RenderWorker
    from orchestrator.runtime import Runtime

    runtime = Runtime(config, source=source_uri, mode="deterministic", max_frames=max_frames, records=())
    worker = RenderWorker([], drop_when_full=False) if display else None
    tracked = config.tracked_detectors
    if worker is not None:
        runtime.on_frame = lambda frame, scene: worker.submit(FrameView(scene, frame.rgb, tracked_detectors=tracked))
    summary: dict[str, Any] = {}
    try:
        for record in runtime.records():
            summary = record
    finally:
        if worker is not None:
            worker.close()
    # The end-to-end rate includes waiting for the renderer to finish the last frames.
    return {"fps": summary["fps"], "frames": summary["frames"]["processed"]}


def measure(pipeline: str, source: str, max_frames: int | None = None) -> dict[str, Any]:
    """The FPS table: mode × display × image size, plus per-stage latency of the sequential runs."""
    import cv2

    from orchestrator.config import load_pipeline

    base = load_pipeline(pipeline)
    capture = cv2.VideoCapture(source)
    native = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    capture.release()
    if native[0] <= 0:
        raise UserError(f"{source}: not a video OpenCV can open")
    rows: list[dict[str, Any]] = []
    stages: dict[str, dict[str, float]] = {}
    for size in SIZES:
        config = dataclasses.replace(base, source=dataclasses.replace(base.source, resize=size))
        width, height = size or native
        for display in (False, True):
            # Side by side: the two modes alternate at each setting, so drift hits both alike.
            sequential = _sequential(config, source, display, max_frames)
            threaded = _threaded(config, source, display, max_frames)
            for mode, result in (("sequential", sequential), ("threaded", threaded)):
                rows.append(
                    {"mode": mode, "width": width, "height": height, "display": display, "fps": round(result["fps"], 2)}
                )
            if display:
                stages[f"{width}x{height}"] = {k: round(v, 3) for k, v in sequential["stages_ms"].items()}
    return {"rows": rows, "stages_ms": stages, "machine": _machine()}


def _machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"


def _plot(stages: dict[str, dict[str, float]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    sizes = list(stages)
    names = sorted({name for per_size in stages.values() for name in per_size})
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(1, len(sizes))
    x = np.arange(len(names))
    for i, size in enumerate(sizes):
        ax.bar(x + i * width, [stages[size].get(n, 0.0) for n in names], width, label=size)
    ax.set_xticks(x + width * (len(sizes) - 1) / 2, names, rotation=15)
    ax.set_ylabel("median ms per call (sequential run)")
    ax.set_title("per-stage latency")
    ax.legend(title="image size")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _print_baseline(entries: list[dict[str, Any]]) -> None:
    print(f"machine: {_machine()}")
    runs = len(entries[0]["runs"])
    print(f"median of {runs} alternating runs; pipelines threaded, deterministic, records encoded, as `run` runs them;")
    print("seed loop: EgoHands SSD in TensorFlow at 320x240, one thread")
    header = f"{'source':<40} {'frames':>6} {'seed fps':>9} {'pipeline':<20} {'fps':>7} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for entry in entries:
        ratio = f"{entry['ratio']:.2f}x" if entry["ratio"] is not None else "n/a"
        print(
            f"{Path(entry['source']).name:<40} {entry['frames']:>6} {entry['seed_fps']:>9.1f} "
            f"{entry['pipeline']:<20} {entry['pipeline_fps']:>7.1f} {ratio:>7}"
        )
    printed_seed: set[str] = set()
    for entry in entries:
        source = Path(entry["source"]).name
        tables = [(entry["pipeline"], entry["pipeline_cpu_ms"])]
        if entry["source"] not in printed_seed:  # the seed's runs are shared by the pipelines on a source
            printed_seed.add(entry["source"])
            tables.insert(0, ("seed loop", entry["seed_cpu_ms"]))
        for title, stages in tables:
            total = sum(value for name, value in stages.items() if name != "drawing")
            print(f"CPU ms per frame, {title} on {source} (one-thread loop, all threads' CPU): total {total:.2f}")
            for name, value in stages.items():
                note = " (not in the pipeline's fps: only with --display or --video-out)" if name == "drawing" else ""
                print(f"  {name:<32} {value:8.3f}{note}")


def cmd_bench_pipeline(args: argparse.Namespace) -> int:
    sources = args.source
    for source in sources:
        if Path(source).is_dir():
            raise UserError(f"--source {source}: a folder; the benchmark reads a video file")
        if not Path(source).is_file():
            raise UserError(f"--source {source}: no such video file")
    if args.max_frames is not None and args.max_frames < 1:
        raise UserError(f"--max-frames: expected an integer >= 1, got {args.max_frames}")
    if args.baseline == "seed":
        if args.runs < 1:
            raise UserError(f"--runs: expected an integer >= 1, got {args.runs}")
        if args.plot:
            raise UserError("--plot: not with --baseline (the baseline prints CPU per stage instead)")
        from orchestrator.bench.seed import compare_many

        entries = compare_many(args.pipeline, sources, runs=args.runs, max_frames=args.max_frames)
        if args.json:
            print(json.dumps(entries[0] if len(entries) == 1 else entries))
        else:
            _print_baseline(entries)
        return 0
    if args.runs_given:
        raise UserError("--runs: only with --baseline seed (the table is one run of each row)")
    if len(args.pipeline) > 1 or len(sources) > 1:
        raise UserError("several pipelines or --source options: only with --baseline seed")
    pipeline, source = args.pipeline[0], sources[0]
    result = measure(pipeline, source, max_frames=args.max_frames)
    if args.plot:
        _plot(result["stages_ms"], args.plot)
    if args.json:
        print(json.dumps(result["rows"]))
        return 0
    print(f"machine: {result['machine']}")
    print(f"{'FPS':>8} | {'image size':<10} | {'mode':<10} | display")
    print(f"{'-' * 8}-|-{'-' * 10}-|-{'-' * 10}-|--------")
    for row in result["rows"]:
        size = f"{row['width']}x{row['height']}"
        print(f"{row['fps']:>8.1f} | {size:<10} | {row['mode']:<10} | {'yes' if row['display'] else 'no'}")
    for size in dict.fromkeys(f"{r['width']}x{r['height']}" for r in result["rows"]):
        for display in (False, True):
            pair = {
                r["mode"]: r["fps"]
                for r in result["rows"]
                if f"{r['width']}x{r['height']}" == size and r["display"] == display
            }
            if pair.get("sequential"):
                ratio = pair["threaded"] / pair["sequential"]
                print(f"threaded / sequential at {size}, display {'yes' if display else 'no'}: {ratio:.2f}x")
    if args.plot:
        print(f"per-stage latency plot: {args.plot}")
    return 0


class _RunsAction(argparse.Action):
    """``--runs N``, remembering that it was given (it only means something with ``--baseline``)."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option_string: Any = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.runs_given = True


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench-pipeline",
        help="FPS table of a pipeline: sequential vs threaded, with and without drawing, by image size",
        description="Measure a pipeline's frames per second, sequential against threaded-interleaved, side by side.",
    )
    parser.add_argument("pipeline", metavar="PIPELINE", nargs="+", help="with --baseline, one or more pipelines")
    parser.add_argument(
        "--source", required=True, metavar="VIDEO", action="append", help="a video; with --baseline, repeat for more"
    )
    parser.add_argument("--max-frames", type=int, metavar="N", help="only the first N frames of each run")
    parser.add_argument("--json", action="store_true", help="print the rows: mode, width, height, display, fps")
    parser.add_argument("--plot", metavar="PNG", help="write a bar chart of per-stage latency")
    parser.add_argument(
        "--baseline",
        choices=["seed"],
        help="instead of the table: the seed project's loop (EgoHands SSD in TensorFlow at 320x240, one "
        "thread) and the pipeline alternately in this process, their fps, ratio and CPU per stage",
    )
    parser.add_argument(
        "--runs", type=int, default=3, metavar="N", action=_RunsAction, help="with --baseline: runs of each (median)"
    )
    parser.set_defaults(handler=cmd_bench_pipeline, runs_given=False)
