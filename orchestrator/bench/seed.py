"""The seed project's loop as a baseline, and a pipeline measured against it in the same process.

The seed (victordibia/handtracking, ``detect_single_threaded.py``) reads a frame with OpenCV,
resizes it to 320×240, converts BGR → RGB and runs the EgoHands SSD in TensorFlow, one frame at a
time in one thread. `seed_loop` does exactly that with the same model (``hands.egohands``,
``runtime: tf``, fp32). `compare` alternates it with the pipeline, run as ``run`` runs it
(threaded, deterministic, the pipeline's own records encoded as JSON lines), ``runs`` times each,
and reports the medians and their ratio; `stage_cpu` adds where a pipeline's CPU time goes.

CPU time is process time (every thread, the model runtimes' worker threads included) measured
around each stage of a one-thread loop, so stages do not overlap and their sum is the loop's CPU
(a model runtime's worker threads may spin for a moment after a call; that CPU lands in the next stage).

Example:
    $ python -m orchestrator bench-pipeline pipelines/hands_only.yaml --baseline seed --runs 3 \\
        --source ../shared/data/egodex/basic_pick_and_place_0.mp4
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from typing import Any

import numpy as np

#: The seed's input size: it shrinks every frame to this before anything else.
SEED_SIZE = (320, 240)


def _open(source_uri: str) -> Any:
    from orchestrator.sources import open_source

    # The seed opens its video with OpenCV's defaults: FFmpeg's own decoding threads.
    return open_source(source_uri, decode_threads=0)


def seed_loop(source_uri: str, max_frames: int | None = None) -> dict[str, Any]:
    """The seed's single-threaded loop over ``source_uri`` (after one untimed call that warms TensorFlow up).

    Returns ``{"fps", "frames", "cpu_ms": {stage: mean CPU ms per frame}}`` with stages ``decode``,
    ``resize``, ``convert`` and ``detect: hands.egohands (tf)``. Raises `UserError` for a source that
    cannot be opened and `ModelError` when the EgoHands model is not installed.
    """
    import cv2

    from detectors.egohands import EgoHandsDetector
    from orchestrator.modelstore.binding import bind_and_load

    detector = EgoHandsDetector(runtime="tf", precision="fp32", score_threshold=0.2)
    bind_and_load(detector)
    # TensorFlow builds and optimises its graph on the first call (1-2 s here): the seed pays that
    # once per process, like loading the model, so it is not counted against its frames.
    detector.detect(np.zeros((SEED_SIZE[1], SEED_SIZE[0], 3), np.uint8))
    source = _open(source_uri)
    cpu: dict[str, float] = defaultdict(float)
    frames = 0
    try:
        started = time.perf_counter()
        while max_frames is None or frames < max_frames:
            c0 = time.process_time()
            item = source.read()
            c1 = time.process_time()
            if item is None:
                break
            small = cv2.resize(item[0], SEED_SIZE)
            c2 = time.process_time()
            rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
            c3 = time.process_time()
            detector.detect(rgb)
            c4 = time.process_time()
            for name, spent in (("decode", c1 - c0), ("resize", c2 - c1), ("convert", c3 - c2)):
                cpu[name] += spent
            cpu["detect: hands.egohands (tf)"] += c4 - c3
            frames += 1
        elapsed = time.perf_counter() - started
    finally:
        detector.close()
        source.close()
    return {
        "fps": frames / elapsed if elapsed > 0 else 0.0,
        "frames": frames,
        "cpu_ms": {name: 1000.0 * total / max(1, frames) for name, total in cpu.items()},
    }


def pipeline_run(config: Any, source_uri: str, max_frames: int | None = None) -> dict[str, Any]:
    """The pipeline as ``run`` runs it (threaded, deterministic), its records encoded as JSON lines."""
    from orchestrator.events import dumps
    from orchestrator.runtime import Runtime

    runtime = Runtime(config, source=source_uri, mode="deterministic", max_frames=max_frames)
    summary: dict[str, Any] = {}
    for record in runtime.records():
        dumps(record)
        summary = record
    return {"fps": float(summary["fps"]), "frames": int(summary["frames"]["processed"])}


def stage_cpu(config: Any, source_uri: str, max_frames: int | None = None) -> dict[str, float]:
    """Mean CPU ms per frame of each stage of ``config`` in a one-thread loop.

    Stages: ``decode``, ``resize`` (the pipeline's ``source.resize``, if any), ``convert`` (RGB for
    detectors that take RGB, once per frame), ``detect: NAME`` per detector (second stages
    included), ``track`` (hand and object trackers), ``relate`` (relations, with a ``relations:``
    section), ``records`` (JSON encoding of the pipeline's records) and ``drawing`` (the annotated
    frame as ``--display`` and ``--video-out`` draw it, off-screen; not part of the pipeline's fps).
    """
    from orchestrator.config import instantiate
    from orchestrator.events import RecordStream, dumps
    from orchestrator.frames import Frame, resize_source
    from orchestrator.modelstore.binding import bind_and_load
    from orchestrator.render import FrameView, render
    from orchestrator.scene_builder import DetectorResult, SceneBuilder
    from orchestrator.schedules import make_schedule

    detectors = instantiate(config)
    for _, detector in detectors:
        bind_and_load(detector)
    source = _open(source_uri)
    builder = SceneBuilder(config, emit=set(config.outputs.records), fps=source.fps)
    cpu: dict[str, float] = defaultdict(float)
    if builder.relations is not None:
        # Relations run inside the scene builder's step: timed apart so that `track` is the trackers alone.
        relate = builder.relations.update

        def timed_relate(*args: Any, **kwargs: Any) -> Any:
            c = time.process_time()
            try:
                return relate(*args, **kwargs)
            finally:
                cpu["relate"] += time.process_time() - c

        builder.relations.update = timed_relate  # type: ignore[method-assign]
    stream = RecordStream()
    schedules = {spec.name: make_schedule(spec.every_n_frames, spec.max_fps) for spec, _ in detectors}
    tracked = config.tracked_detectors
    frames = 0
    try:
        while max_frames is None or frames < max_frames:
            c0 = time.process_time()
            item = source.read()
            c1 = time.process_time()
            if item is None:
                break
            cpu["decode"] += c1 - c0
            pixels = resize_source(item[0], config.source.resize)
            frame = Frame(frames, item[1], pixels, channel_order="bgr")
            cpu["resize"] += time.process_time() - c1
            results: dict[str, DetectorResult] = {}
            for spec, detector in detectors:
                due = schedules[spec.name].due(frames, item[1]) if spec.input is None else spec.input in results
                if not due:
                    continue
                c = time.process_time()
                if detector.channel_order == "rgb":
                    frame.rgb  # noqa: B018 - the conversion is its own stage
                    cpu["convert"] += time.process_time() - c
                    c = time.process_time()
                image = frame.image(detector.channel_order)
                if spec.input is None:
                    found = detector.detect_frame(image, frames, item[1])
                else:
                    found = detector.detect_on(image, results[spec.input].detections)
                cpu[f"detect: {spec.name}"] += time.process_time() - c
                results[spec.name] = DetectorResult(spec.name, frames, item[1], found, 0.0)
            c = time.process_time()
            related = cpu.get("relate", 0.0)
            records = builder.step(frames, item[1], (frame.width, frame.height), list(results.values()))
            c2 = time.process_time()
            cpu["track"] += c2 - c - (cpu.get("relate", 0.0) - related)
            for record in records:
                dumps(stream.stamp(record))
            c3 = time.process_time()
            cpu["records"] += c3 - c2
            render(FrameView(builder.scene, frame.rgb, tracked_detectors=tracked))
            cpu["drawing"] += time.process_time() - c3
            frames += 1
    finally:
        for _, detector in detectors:
            detector.close()
        source.close()
    return {name: 1000.0 * total / max(1, frames) for name, total in cpu.items()}


def compare_many(
    pipelines: list[str], sources: list[str], runs: int = 3, max_frames: int | None = None
) -> list[dict[str, Any]]:
    """`compare` for every pipeline on every source, in one process: one entry per (source, pipeline).

    For each source, every run alternates the seed loop and each pipeline in turn (seed, p1, p2, ...),
    so that they share the machine's state; each entry has its own seed fps (the same runs for all
    pipelines on that source).
    """
    from orchestrator.config import load_pipeline

    configs = [load_pipeline(path) for path in pipelines]
    entries = []
    for source_uri in sources:
        seed_rows: list[dict[str, Any]] = []
        rows: list[list[float]] = [[] for _ in configs]
        frames = [0] * len(configs)
        for _ in range(runs):
            seed_rows.append(seed_loop(source_uri, max_frames))
            for i, config in enumerate(configs):
                mine = pipeline_run(config, source_uri, max_frames)
                rows[i].append(round(mine["fps"], 2))
                frames[i] = mine["frames"]
        seed_fps = [round(row["fps"], 2) for row in seed_rows]
        seed_median = statistics.median(seed_fps)
        for i, config in enumerate(configs):
            median = statistics.median(rows[i])
            entries.append(
                {
                    "pipeline": config.name,
                    "source": source_uri,
                    "frames": frames[i],
                    "seed_fps": round(seed_median, 2),
                    "pipeline_fps": round(median, 2),
                    "ratio": round(median / seed_median, 3) if seed_median > 0 else None,
                    "runs": [{"seed_fps": a, "pipeline_fps": b} for a, b in zip(seed_fps, rows[i], strict=True)],
                    "seed_cpu_ms": {k: round(v, 3) for k, v in seed_rows[-1]["cpu_ms"].items()},
                    "pipeline_cpu_ms": {
                        k: round(v, 3) for k, v in stage_cpu(config, source_uri, max_frames).items()
                    },
                }
            )
    return entries


def compare(pipeline: str, source_uri: str, runs: int = 3, max_frames: int | None = None) -> dict[str, Any]:
    """``runs`` alternating runs of the seed loop and the pipeline; medians, ratio and per-stage CPU.

    Returns ``{"seed_fps", "pipeline_fps", "ratio", "runs": [{"seed_fps", "pipeline_fps"}...],
    "seed_cpu_ms", "pipeline_cpu_ms", "frames"}``; fps are frames per wall-clock second.
    """
    return compare_many([pipeline], [source_uri], runs, max_frames)[0]
