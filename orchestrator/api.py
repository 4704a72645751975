"""The Python API: run a pipeline and consume its records as an iterator, or through a callback.

Example:
    >>> import orchestrator
    >>> for event in orchestrator.run("pipelines/table_scene.yaml", source="clip.mp4"):   # doctest: +SKIP
    ...     if event["type"] == "relation.start":
    ...         print(f"hand {event['hand_id']} {event['relation']} {event['object_label']} at {event['time']:.1f} s")
    >>> summary = orchestrator.run("pipelines/hands_only.yaml", source=0, callback=print)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, overload

from orchestrator.config import PipelineConfig, load_pipeline
from orchestrator.runtime import Runtime

Record = dict[str, Any]


@overload
def run(
    pipeline: str | Path | PipelineConfig,
    source: str | int | Iterable[Any] | None = ...,
    *,
    mode: str | None = ...,
    max_frames: int | None = ...,
    records: tuple[str, ...] | None = ...,
    callback: None = ...,
) -> Iterator[Record]: ...


@overload
def run(
    pipeline: str | Path | PipelineConfig,
    source: str | int | Iterable[Any] | None = ...,
    *,
    mode: str | None = ...,
    max_frames: int | None = ...,
    records: tuple[str, ...] | None = ...,
    callback: Callable[[Record], None],
) -> Record: ...


def run(
    pipeline: str | Path | PipelineConfig,
    source: str | int | Iterable[Any] | None = None,
    *,
    mode: str | None = None,
    max_frames: int | None = None,
    records: tuple[str, ...] | None = None,
    callback: Callable[[Record], None] | None = None,
) -> Iterator[Record] | Record:
    """Run ``pipeline`` (a YAML path or a loaded config) over ``source``.

    ``source``: a video file, an image folder, a stream URL or camera index (as ``--source``), or
    the caller's own frames: any iterable of ``uint8`` ``(H, W, 3)`` RGB arrays, or of
    ``(array, time_s)`` pairs (`orchestrator.sources.IterableSource`); None: the pipeline's
    ``source.uri``.

    Without ``callback``: an iterator of records (dicts, as the JSON Lines have them), the
    summary last; stop early by breaking out of the loop (the run is stopped and its threads
    joined). With ``callback``: calls it for every record and returns the summary.
    ``records`` overrides the pipeline's opt-in per-frame record types (``detections``, ``tracks``).
    The summary's ``status`` says how the run ended: ``completed`` (the whole source), ``truncated``
    (the source ended early or skipped damaged frames), ``source_lost``, ``interrupted`` or ``error``.
    Errors: `orchestrator.errors.UserError` for bad input (a source that cannot be opened),
    `PipelineError` when a detector, the source or a frame hook failed or a live source was lost
    (after the summary has been produced, and every frame read before it processed).
    """
    config = pipeline if isinstance(pipeline, PipelineConfig) else load_pipeline(pipeline)
    runtime = Runtime(config, source=source, mode=mode, max_frames=max_frames, records=records)
    if callback is None:
        return runtime.records()
    summary: Record = {}
    for record in runtime.records():
        callback(record)
        summary = record
    return summary
