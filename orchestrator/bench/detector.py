"""Detector latency: median and p90 of `detect` on one frame, against the same model in TensorFlow.

The timed call is the plugin's whole ``detect`` (resize, inference, decoding, NMS), batch 1, after
warm-up runs; TensorFlow is the same plugin with ``runtime: tf`` (float32) in the same process.

Example:
    >>> result = bench("hands.egohands", precision="int8", runs=50)  # doctest: +SKIP
    >>> result.to_json()["speedup_vs_tf"]  # doctest: +SKIP
    4.1
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detectors.image import in_channel_order
from orchestrator.errors import UserError

#: Timed runs and untimed warm-up runs (the README's latency table is measured with these).
DEFAULT_RUNS = 100
DEFAULT_WARMUP = 5


@dataclass(frozen=True)
class BenchResult:
    """Latency figures in milliseconds."""

    detector: str
    runtime: str
    precision: str
    num_threads: int
    runs: int
    median_ms: float
    p90_ms: float
    tf_median_ms: float | None = None
    tf_p90_ms: float | None = None

    @property
    def speedup_vs_tf(self) -> float | None:
        """TensorFlow median / this median; ``None`` for detectors without a ``runtime`` parameter."""
        if self.tf_median_ms is None or not self.median_ms:
            return None
        return self.tf_median_ms / self.median_ms

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures (``median_ms``, ``p90_ms``, ``tf_median_ms``, ``speedup_vs_tf``, ...)."""
        return {
            "detector": self.detector,
            "runtime": self.runtime,
            "precision": self.precision,
            "num_threads": self.num_threads,
            "runs": self.runs,
            "median_ms": round(self.median_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "tf_median_ms": _round(self.tf_median_ms),
            "tf_p90_ms": _round(self.tf_p90_ms),
            "speedup_vs_tf": _round(self.speedup_vs_tf),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def synthetic_frame(width: int = 1280, height: int = 720, seed: int = 0) -> np.ndarray:
    """A deterministic RGB frame with smooth shading, shapes and sensor-like noise (not a blank image).

    Example:
        >>> synthetic_frame(64, 48).shape
        (48, 64, 3)
    """
    import cv2

    rng = np.random.default_rng(seed)
    frame = cv2.resize(
        rng.uniform(40, 200, (9, 16, 3)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC
    )
    for _ in range(12):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(width // 40, width // 6)), int(rng.integers(height // 40, height // 6)))
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        cv2.ellipse(frame, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    frame += rng.normal(0, 6, frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


def time_detect(detector: Any, frame: np.ndarray, runs: int, warmup: int) -> np.ndarray:
    """Milliseconds of ``detector.detect(frame)`` for ``runs`` calls after ``warmup`` untimed ones (``frame`` RGB)."""
    frame = in_channel_order(frame, getattr(detector, "channel_order", "rgb"))
    for _ in range(warmup):
        detector.detect(frame)
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        detector.detect(frame)
        times[i] = (time.perf_counter() - start) * 1000.0
    return times


def bench(
    detector: str,
    runtime: str | None = None,
    precision: str | None = None,
    runs: int = DEFAULT_RUNS,
    warmup: int = DEFAULT_WARMUP,
    params: Mapping[str, Any] | None = None,
    frame: np.ndarray | None = None,
) -> BenchResult:
    """Time the registered ``detector`` and the same model with ``runtime: tf``.

    Detectors without a ``runtime`` parameter are timed alone (the TensorFlow fields are ``None``).

    Example:
        >>> bench("objects.coco.centernet", runs=20).median_ms  # doctest: +SKIP
        31.0
    """
    from orchestrator.config.instantiate import construct
    from orchestrator.errors import RegistryError
    from orchestrator.modelstore.binding import bind_and_load
    from orchestrator.registry import DETECTORS

    if runs < 1 or warmup < 0:
        raise UserError(f"--runs must be >= 1 and --warmup >= 0, got {runs} and {warmup}")
    try:
        cls = DETECTORS.get(detector).obj
    except RegistryError as exc:
        raise UserError(str(exc)) from None
    properties = cls.params_schema.get("properties", {})
    for name, value in (("runtime", runtime), ("precision", precision)):
        if value is not None and name not in properties:
            raise UserError(f"detector {detector} has no {name} parameter")
    params = dict(params or {})
    if runtime is not None:
        params["runtime"] = runtime
    if precision is not None:
        params["precision"] = precision
    frame = synthetic_frame() if frame is None else frame
    with bind_and_load(construct(detector, cls, params)) as model:
        times = time_detect(model, frame, runs, warmup)
        used_runtime = getattr(model, "runtime", "-")
        used_precision = getattr(model, "precision", "-")
        threads = int(getattr(model, "num_threads", 0))
    tf_times: np.ndarray | None = None
    if used_runtime == "tf":
        tf_times = times
    elif "runtime" in cls.params_schema.get("properties", {}):
        with bind_and_load(construct(detector, cls, {**params, "runtime": "tf", "precision": "fp32"})) as model:
            tf_times = time_detect(model, frame, runs, warmup)
    return BenchResult(
        detector,
        used_runtime,
        used_precision,
        threads,
        runs,
        float(np.median(times)),
        float(np.percentile(times, 90)),
        None if tf_times is None else float(np.median(tf_times)),
        None if tf_times is None else float(np.percentile(tf_times, 90)),
    )


def register(subparsers: Any) -> None:
    """Add the ``bench`` command to an argparse ``subparsers`` object (``handler`` = `cmd_bench`).

    Example:
        >>> parser = argparse.ArgumentParser(prog="orchestrator")
        >>> register(parser.add_subparsers(dest="command"))
        >>> parser.parse_args(["bench", "--detector", "hands.egohands", "--precision", "int8"]).runs
        100
    """
    p = subparsers.add_parser("bench", help="detector latency (median, p90) against the same model in TensorFlow")
    p.add_argument("--detector", required=True, metavar="NAME")
    p.add_argument("--runtime", choices=["litert", "tf"], help="default: the detector's default (litert)")
    p.add_argument(
        "--precision",
        choices=["fp32", "int8"],
        help="default: the detector's (hands.egohands: int8 once `models quantize` has built it, else fp32)",
    )
    p.add_argument("--threads", type=int, metavar="N", help="num_threads of the runtime (default: the detector's)")
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS, metavar="N", help=f"timed runs (default: {DEFAULT_RUNS})")
    warmup_help = f"untimed runs first (default: {DEFAULT_WARMUP})"
    p.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, metavar="N", help=warmup_help)
    p.add_argument("--image", type=Path, metavar="FILE", help="frame to time on (default: a synthetic 1280x720 one)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(handler=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark and print the figures."""
    from orchestrator.modelstore import read_rgb

    frame = read_rgb(args.image) if args.image else None
    params = {"num_threads": args.threads} if args.threads else {}
    result = bench(args.detector, args.runtime, args.precision, args.runs, args.warmup, params, frame)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        line = (
            f"{result.detector} ({result.runtime} {result.precision}, {result.num_threads} threads, "
            f"{result.runs} runs): median {result.median_ms:.1f} ms, p90 {result.p90_ms:.1f} ms"
        )
        if result.tf_median_ms is not None:
            line += f"; TensorFlow median {result.tf_median_ms:.1f} ms; speedup {result.speedup_vs_tf:.2f}x"
        print(line)
    return 0
