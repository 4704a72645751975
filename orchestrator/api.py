"""The Python API: run a pipeline and consume its records as an iterator, or through a callback.

Example:
    >>> import orchestrator
    >>> for event in orchestrator.run("pipelines/table_scene.yaml", source="clip.mp4"):   # doctest: +SKIP
    ...     if event["type"] == "relation.start":
    ...         print(f"hand {event['hand_id']} {event['relation']} {event['object_label']} at {event['time']:.1f} s")
    >>> summary = orchestrator.run("pipelines/hands_only.yaml", source=0, callback=print)  # doctest: +SKIP
    >>> results = orchestrator.run("pipelines/hands_only.yaml", source="clip.mp4", with_frames=True)  # doctest: +SKIP
    >>> for result in results:                                                          # doctest: +SKIP
    ...     if not result.is_end:
    ...         print(result.frame_index, result.image.shape, len(result.scene.hands), len(result.records))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, overload

from orchestrator.config import PipelineConfig, load_pipeline
from orchestrator.errors import UserError
from orchestrator.frame_results import FrameResult, frame_results
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
    with_frames: Literal[False] = ...,
) -> Iterator[Record]: ...


@overload
def run(
    pipeline: str | Path | PipelineConfig,
    source: str | int | Iterable[Any] | None = ...,
    *,
    mode: str | None = ...,
    max_frames: int | None = ...,
    records: tuple[str, ...] | None = ...,
    callback: None = ...,
    with_frames: Literal[True],
) -> Iterator[FrameResult]: ...


@overload
def run(
    pipeline: str | Path | PipelineConfig,
    source: str | int | Iterable[Any] | None = ...,
    *,
    mode: str | None = ...,
    max_frames: int | None = ...,
    records: tuple[str, ...] | None = ...,
    callback: Callable[[Record], None],
    with_frames: Literal[False] = ...,
) -> Record: ...


@overload
def run(
    pipeline: str | Path | PipelineConfig,
    source: str | int | Iterable[Any] | None = ...,
    *,
    mode: str | None = ...,
    max_frames: int | None = ...,
    records: tuple[str, ...] | None = ...,
    callback: Callable[[FrameResult], None],
    with_frames: Literal[True],
) -> Record: ...


def run(
    pipeline: str | Path | PipelineConfig,
    source: str | int | Iterable[Any] | None = None,
    *,
    mode: str | None = None,
    max_frames: int | None = None,
    records: tuple[str, ...] | None = None,
    callback: Callable[[Record], None] | Callable[[FrameResult], None] | None = None,
    with_frames: bool = False,
) -> Iterator[Record] | Iterator[FrameResult] | Record:
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
    ``with_frames=True``: items are `orchestrator.frame_results.FrameResult` instead of records,
    one per processed frame in frame order (``frame_index``, ``time_s``, ``image``: the frame the
    detectors saw, read-only ``uint8 (H, W, 3)`` RGB, ``scene``: its `Scene`, ``records``: the
    frame's records, possibly none), then one end result (``is_end``; ``image`` and ``scene``
    ``None``) with the records after the last frame (relations ending with the stream) and the
    summary last. Records before the first frame come with the first frame's result; all the
    results' records together are exactly the records without ``with_frames``. One frame is
    held at a time. With ``callback``, the callback gets each `FrameResult`.
    Errors: `orchestrator.errors.UserError` for bad input (a source that cannot be opened),
    `PipelineError` when a detector, the source or a frame hook failed or a live source was lost
    (after the summary has been produced, and every frame read before it processed).
    """
    if not isinstance(with_frames, bool):
        raise UserError(f"with_frames must be True or False, got {with_frames!r}")
    config = pipeline if isinstance(pipeline, PipelineConfig) else load_pipeline(pipeline)
    runtime = Runtime(config, source=source, mode=mode, max_frames=max_frames, records=records)
    summary: Record = {}
    if with_frames:
        results = frame_results(runtime)
        if callback is None:
            return results
        for result in results:
            callback(result)  # type: ignore[arg-type]
            if result.is_end:
                summary = result.records[-1]
        return summary
    if callback is None:
        return runtime.records()
    for record in runtime.records():
        callback(record)  # type: ignore[arg-type]
        summary = record
    return summary
