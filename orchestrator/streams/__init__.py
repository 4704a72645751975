"""Several live streams in one process, every detector's model loaded once and shared.

A pipeline with ``sources: {name: uri, ...}`` runs one `Runtime` per stream in a `MultiRuntime`;
`open_runtime` picks the runtime a pipeline needs.

Example:
    >>> from orchestrator.config import load_pipeline
    >>> runtime = open_runtime(load_pipeline("station.yaml"))   # doctest: +SKIP
    >>> type(runtime).__name__                                  # doctest: +SKIP
    'MultiRuntime'
"""

from __future__ import annotations

from typing import Any

from orchestrator.config import PipelineConfig
from orchestrator.errors import UserError
from orchestrator.runtime import Runtime
from orchestrator.streams.merge import RecordMerger
from orchestrator.streams.runtime import MultiRuntime
from orchestrator.streams.shared import SharedModel, StreamDetector

__all__ = ["MultiRuntime", "RecordMerger", "SharedModel", "StreamDetector", "open_runtime"]


def open_runtime(
    config: PipelineConfig, source: Any = None, mode: str | None = None, max_frames: int | None = None
) -> Runtime | MultiRuntime:
    """A `MultiRuntime` for a pipeline with ``sources:``, else a `Runtime` (``source`` overrides ``source.uri``).

    Raises `UserError` when ``source`` is given for a pipeline with ``sources:`` (each stream's
    source is set in the pipeline), and as the runtimes do.
    """
    if not config.sources:
        return Runtime(config, source=source, mode=mode, max_frames=max_frames)
    if source is not None:
        names = ", ".join(stream.name for stream in config.sources)
        raise UserError(
            f"{config.path}: --source: this pipeline reads several sources (sources: {names}); "
            "change them in its sources: section"
        )
    return MultiRuntime(config, mode=mode, max_frames=max_frames)
