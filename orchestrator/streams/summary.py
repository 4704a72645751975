"""The run's summary over several streams, from each stream's own summary record.

Each stream ends with its own summary (with its ``stream`` name): its status, frames, realtime
drops, detector runs and latencies as that stream saw them. The run ends with one more summary,
without ``stream``, that adds them up:

* ``status``: ``interrupted`` after a stop; else the worst of the streams' (``error``, then
  ``source_lost``, ``truncated``, ``completed``); ``error`` names each failed stream.
* ``frames``, ``stalls``, ``reconnects``, detector ``runs``/``drops``/``errors``: sums over streams
  (``frames.expected`` only when every stream states one).
* detector latencies: of the shared model's calls (one call may answer several streams' frames).
* ``frame``/``time``: the furthest any stream got; ``fps``: all streams' frames over the run's wall time.

Example:
    >>> worst_status(["completed", "truncated"]), worst_status(["completed", "error"], stopped=True)
    ('truncated', 'interrupted')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from orchestrator.events import DetectorStats, SummaryRecord

#: Stream statuses from the worst: the run's status is the first one any stream has.
_SEVERITY = ("error", "source_lost", "interrupted", "truncated", "completed")
#: Skipped file names the run's summary lists at most (as a single stream's does).
MAX_SKIPPED_NAMES = 20


def worst_status(statuses: Sequence[str], stopped: bool = False) -> str:
    """The run's status from its streams' (``interrupted`` when the run was stopped)."""
    if stopped:
        return "interrupted"
    for status in _SEVERITY:
        if status in statuses:
            return status
    return "completed"


def overall_summary(
    *,
    pipeline: str,
    mode: str,
    summaries: Mapping[str, Mapping[str, Any]],
    models: Mapping[str, tuple[str, Sequence[float]]],
    abandoned: Sequence[Mapping[str, Any]],
    stopped: bool,
    wall_s: float,
) -> SummaryRecord:
    """The run's summary from each stream's summary record (``summaries``, by stream name, in order).

    ``models``: detector name -> (plugin, latencies in ms of its shared model's calls);
    ``abandoned``: threads of the run itself a stop left behind (shared models, stream threads).
    """
    statuses = [summary["status"] for summary in summaries.values()]
    status = worst_status(statuses, stopped)
    failed = [
        f"stream {name}: {summary.get('error') or summary['status']}"
        for name, summary in summaries.items()
        if summary["status"] in ("error", "source_lost")
    ]

    def total(key: str) -> int:
        return sum(int(summary["frames"][key]) for summary in summaries.values())

    expected = [summary["frames"].get("expected") for summary in summaries.values()]
    detectors: dict[str, DetectorStats] = {}
    for name, (plugin, latencies) in models.items():
        per_stream = [summary["detectors"][name] for summary in summaries.values() if name in summary["detectors"]]
        lat = np.asarray(latencies, dtype=np.float64)
        first_errors = [stats["first_error"] for stats in per_stream if stats.get("first_error")]
        detectors[name] = DetectorStats(
            plugin=plugin,
            runs=sum(stats["runs"] for stats in per_stream),
            drops=sum(stats["drops"] for stats in per_stream),
            latency_p50_ms=float(np.percentile(lat, 50)) if lat.size else None,
            latency_p95_ms=float(np.percentile(lat, 95)) if lat.size else None,
            errors=sum(stats["errors"] for stats in per_stream),
            first_error=first_errors[0] if first_errors else None,
            boxes_dropped=sum(stats["boxes_dropped"] for stats in per_stream),
        )
    skipped = [f"{name}: {file}" for name, summary in summaries.items() for file in summary["skipped_files"]]
    threads = [
        {**entry, "thread": f"{name}/{entry['thread']}"}
        for name, summary in summaries.items()
        for entry in summary["abandoned"]
    ]
    processed = total("processed")
    return SummaryRecord(
        frame=max((summary["frame"] for summary in summaries.values()), default=-1),
        time=max((summary["time"] for summary in summaries.values()), default=0.0),
        status=status,
        error="; ".join(failed) if failed and status in ("error", "source_lost") else None,
        pipeline=pipeline,
        source=", ".join(f"{name}: {summary['source']}" for name, summary in summaries.items()),
        mode=mode,
        frames_read=total("read"),
        frames_processed=processed,
        frames_dropped=total("dropped"),
        frames_skipped=total("skipped"),
        frames_expected=sum(expected) if expected and None not in expected else None,
        skipped_files=tuple(skipped[:MAX_SKIPPED_NAMES]),
        stalls=sum(summary["stalls"] for summary in summaries.values()),
        reconnects=sum(summary["reconnects"] for summary in summaries.values()),
        abandoned=(*threads, *abandoned),
        detectors=detectors,
        fps=processed / wall_s if wall_s > 0 else 0.0,
        wall_time_s=wall_s,
    )
