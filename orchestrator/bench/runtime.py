"""``bench-runtime``: the runtime's own overhead, against decoding the same video alone.

Both measurements run in the same process, alternating, so the ratio compares like with like:

* baseline: ``cv2.VideoCapture.read`` over the whole video (decode only), with the decoding
  threads a pipeline uses (``source.decode_threads``' default);
* pipeline: the runtime with one ``testing.noop`` detector on every frame, deterministic mode,
  no per-frame records (reader thread, RGB conversion, schedule, worker, fusion, summary).

Example:
    $ python -m orchestrator bench-runtime --source ../shared/data/egodex/add_remove_lid_0.mp4
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import cv2

from orchestrator.errors import UserError


def decode_fps(video: str, max_frames: int | None) -> float:
    """Frames per second of decoding ``video`` with OpenCV alone, on the pipeline's decoding threads."""
    from orchestrator.config.spec import SourceSpec
    from orchestrator.sources.capture import open_capture

    capture = open_capture(video, decode_threads=SourceSpec.decode_threads)
    if not capture.isOpened():
        raise UserError(f"{video}: not a video OpenCV can open")
    frames = 0
    started = time.perf_counter()
    while max_frames is None or frames < max_frames:
        ok, _ = capture.read()
        if not ok:
            break
        frames += 1
    elapsed = time.perf_counter() - started
    capture.release()
    if frames == 0:
        raise UserError(f"{video}: no frame could be decoded")
    return frames / elapsed


def pipeline_fps(video: str, max_frames: int | None) -> float:
    """Frames per second of the runtime with one no-op detector over ``video``."""
    from orchestrator.config import parse_pipeline
    from orchestrator.runtime import Runtime

    text = "version: 1\ndetectors:\n  noop:\n    plugin: testing.noop\n"
    config = parse_pipeline(text, Path("<bench-runtime>"))
    summary: dict[str, Any] = {}
    for record in Runtime(config, source=video, mode="deterministic", max_frames=max_frames).records():
        summary = record
    return float(summary["frames"]["processed"]) / float(summary["wall_time_s"])


def measure(video: str, repeats: int = 3, max_frames: int | None = None) -> dict[str, Any]:
    """Alternate decode-only and pipeline runs; report the medians and their ratio."""
    capture = cv2.VideoCapture(video)
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    capture.release()
    decode, pipeline = [], []
    for _ in range(repeats):
        decode.append(decode_fps(video, max_frames))
        pipeline.append(pipeline_fps(video, max_frames))
    decode_median, pipeline_median = statistics.median(decode), statistics.median(pipeline)
    return {
        "video": video,
        "width": width,
        "height": height,
        "repeats": repeats,
        "decode_fps": round(decode_median, 1),
        "pipeline_fps": round(pipeline_median, 1),
        "ratio": round(pipeline_median / decode_median, 3),
    }


def cmd_bench_runtime(args: argparse.Namespace) -> int:
    if not Path(args.source).is_file():
        raise UserError(f"{args.source}: no such video file")
    result = measure(args.source, repeats=args.repeats, max_frames=args.max_frames)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"video            {result['video']} ({result['width']}x{result['height']})")
        print(f"OpenCV decode    {result['decode_fps']:.1f} fps (median of {result['repeats']})")
        print(f"pipeline (noop)  {result['pipeline_fps']:.1f} fps")
        print(f"ratio            {result['ratio']:.3f} (pipeline / decode)")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench-runtime",
        help="measure the runtime's overhead against OpenCV decoding alone",
        description="FPS of a pipeline with one no-op detector against decoding the same video with OpenCV.",
    )
    parser.add_argument("--source", required=True, metavar="VIDEO", help="a video file")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each (default 3)")
    parser.add_argument("--max-frames", type=int, metavar="N", help="only the first N frames")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=cmd_bench_runtime)
