"""The tracker micro-benchmark (`orchestrator.bench.tracker`)."""

from __future__ import annotations

from orchestrator.bench.tracker import benchmark_tracker


def test_benchmark_tracker_smoke() -> None:
    result = benchmark_tracker(n_tracks=3, n_frames=60, seed=1)
    assert result["n_tracks"] == 3 and result["n_frames"] == 60
    assert result["distinct_ids"] == 3
    assert 0 < result["median_ms"] <= result["p90_ms"] <= result["max_ms"]
