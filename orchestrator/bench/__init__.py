"""Benchmarks: detector latency, the runtime's overhead, a pipeline's FPS table, a tracker's cost.

* `orchestrator.bench.detector`: ``bench`` (detector latency against TensorFlow);
* `orchestrator.bench.runtime`: ``bench-runtime`` (a no-op pipeline against OpenCV decoding);
* `orchestrator.bench.pipeline`: ``bench-pipeline`` (sequential against threaded FPS table);
* `orchestrator.bench.streams`: ``bench-streams`` (N streams in one process against N processes);
* `orchestrator.bench.tracker`: `benchmark_tracker` (per-frame cost of a tracker on simulated hands).
"""

from __future__ import annotations

from orchestrator.bench.detector import BenchResult, bench, synthetic_frame, time_detect
from orchestrator.bench.tracker import benchmark_tracker, simulate_hands

__all__ = ["BenchResult", "bench", "benchmark_tracker", "simulate_hands", "synthetic_frame", "time_detect"]
