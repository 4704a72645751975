"""A pipeline driven with your own frames: ``process(image, time_s)`` → the scene and its records.

For programs with their own capture loop (a robot, a game engine, a notebook): no source, no
threads. Each call runs the detectors scheduled on that frame, in the pipeline's order (a second
stage right after its input), then tracking and relations, exactly as ``run`` does in
deterministic mode, so the same frames and times give the same records, byte for byte.

Frames are ``uint8`` arrays ``(H, W, 3)`` in RGB order (``channel_order="bgr"`` for OpenCV's
order); ``time_s`` is the frame's time in seconds (default: index ÷ the pipeline's
``source.fps``, or 30). Records are the JSON-ready dicts of the events stream (schema
``orchestrator.events``), numbered by ``seq`` from 0 for each opened pipeline. The first
``process`` call's records start with the stream's header (``stream.start``, seq 0: the first
frame's size, the pipeline's hash, the detectors' models; source ``frames``), also kept in
`EmbeddedPipeline.header`; there is no summary.

Example:
    >>> import numpy as np, orchestrator
    >>> with orchestrator.open("pipelines/hands_only.yaml") as pipe:          # doctest: +SKIP
    ...     scene, records = pipe.process(np.zeros((480, 640, 3), np.uint8), time_s=0.0)
    ...     [hand.side for hand in scene.hands], [r["type"] for r in records]
    ([], ['stream.start'])
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from detectors.detections import Detections
from detectors.detector import Detector
from detectors.image import CHANNEL_ORDERS
from orchestrator.config import PipelineConfig, load_pipeline
from orchestrator.config.spec import DetectorSpec
from orchestrator.errors import PipelineError, UserError
from orchestrator.events import RecordStream, StreamStartRecord
from orchestrator.frames import Frame
from orchestrator.loading import load_detectors
from orchestrator.provenance import stream_header
from orchestrator.scene import Scene
from orchestrator.scene_builder import DetectorResult, SceneBuilder
from orchestrator.schedules import make_schedule
from orchestrator.sources import DEFAULT_FPS

Record = dict[str, Any]


class EmbeddedPipeline:
    """One pipeline, loaded once, that processes the frames its caller gives it (see the module doc).

    Use it as a context manager (or call `close`); `finish` gives the records that end the
    relations still active and closes it (leaving the block without `finish` drops them).
    ``records`` overrides the pipeline's opt-in per-frame record types (``detections``, ``tracks``,
    ``keypoints``). Raises `UserError` for a bad pipeline or model problem a user can
    fix and `PipelineError` when a detector fails to load.
    """

    def __init__(self, pipeline: str | Path | PipelineConfig, *, records: Iterable[str] | None = None) -> None:
        self.config = pipeline if isinstance(pipeline, PipelineConfig) else load_pipeline(pipeline)
        emit = set(self.config.outputs.records if records is None else records)
        self.fps = self.config.source.fps or DEFAULT_FPS
        self._builder = SceneBuilder(self.config, emit, fps=self.fps)
        self._stream = RecordStream()
        self._closed = False
        self._detectors: list[tuple[DetectorSpec, Detector]] = load_detectors(self.config)
        try:
            self._pending_header: StreamStartRecord | None = stream_header(
                self.config,
                self._detectors,
                records=emit,
                source="frames",
                source_kind="frames",
                fps=self.fps,
                fps_stated=None,
                frame_count=None,
                mode="deterministic",
            )
        except BaseException:
            self.close()
            raise
        #: The stream's header (``stream.start``) once the first frame was processed, else None.
        self.header: Record | None = None
        self._schedules = {spec.name: make_schedule(spec.every_n_frames, spec.max_fps) for spec, _ in self._detectors}
        self._index = 0
        self._last_time: float | None = None
        #: Per detector: frames on which it raised and its ``on_error: skip`` let the frame go on.
        self.errors: dict[str, int] = {spec.name: 0 for spec, _ in self._detectors}

    @property
    def frames_processed(self) -> int:
        """How many frames `process` has taken."""
        return self._index

    def process(
        self, image: np.ndarray, time_s: float | None = None, *, channel_order: str = "rgb"
    ) -> tuple[Scene, list[Record]]:
        """Run the pipeline on the next frame; returns its `Scene` and the records it produced.

        ``image``: ``uint8`` ``(H, W, 3)`` in ``channel_order`` (``"rgb"`` or ``"bgr"``); frames may
        change size. ``time_s``: seconds, finite, not before the previous frame's. Raises
        `UserError` for another image, time or order, or after `close`; `PipelineError` naming the
        detector and frame when a detector fails (``on_error: stop``, the default).
        """
        if self._closed:
            raise UserError("process: the pipeline is closed")
        if channel_order not in CHANNEL_ORDERS:
            raise UserError(f"process: channel_order must be one of {list(CHANNEL_ORDERS)}, got {channel_order!r}")
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            what = f"{image.dtype} array {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise UserError(f"process: image must be a uint8 numpy array (H, W, 3), got {what}")
        if image.shape[0] < 1 or image.shape[1] < 1:
            raise UserError(f"process: image is empty: {image.shape}")
        index = self._index
        time_s = index / self.fps if time_s is None else time_s
        if not isinstance(time_s, int | float) or isinstance(time_s, bool) or not math.isfinite(time_s):
            raise UserError(f"process: time_s must be a finite number of seconds, got {time_s!r}")
        if self._last_time is not None and time_s < self._last_time:
            raise UserError(f"process: time_s {time_s} is before the previous frame's {self._last_time}")
        pixels = np.array(image, copy=True)  # the caller may reuse its buffer; detectors see a frozen copy
        frame = Frame(index, float(time_s), pixels, channel_order=channel_order)
        results = self._detect(frame)
        records = self._builder.step(frame.index, frame.time_s, (frame.width, frame.height), results)
        self._index += 1
        self._last_time = frame.time_s
        assert self._builder.scene is not None
        stamped = []
        if self._pending_header is not None:  # the first frame: the stream's header comes first
            header = replace(
                self._pending_header, frame=frame.index, time=frame.time_s, width=frame.width, height=frame.height
            )
            self._pending_header = None
            self.header = self._stream.stamp(header)
            stamped.append(dict(self.header))
        return self._builder.scene, stamped + [self._stream.stamp(record) for record in records]

    def _detect(self, frame: Frame) -> list[DetectorResult]:
        """The results of the detectors scheduled on ``frame``, in the pipeline's order."""
        found: dict[str, DetectorResult] = {}
        for spec, detector in self._detectors:
            if spec.input is None:
                if not self._schedules[spec.name].due(frame.index, frame.time_s):
                    continue
            elif spec.input not in found:
                continue
            image = frame.image(detector.channel_order)
            try:
                if spec.input is None:
                    detections = detector.detect_frame(image, frame.index, frame.time_s)
                else:
                    detections = detector.detect_on(image, found[spec.input].detections)
                if not isinstance(detections, Detections):
                    raise TypeError(f"returned {type(detections).__name__}, expected Detections")
            except Exception as exc:
                if getattr(spec, "on_error", "stop") != "skip":
                    raise PipelineError(
                        f"detector '{spec.name}' ({spec.plugin}) failed on frame {frame.index}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                self.errors[spec.name] += 1
                detections = Detections.empty()
            found[spec.name] = DetectorResult(spec.name, frame.index, frame.time_s, detections, 0.0)
        return [found[spec.name] for spec, _ in self._detectors if spec.name in found]

    def finish(self) -> list[Record]:
        """End the stream: the records that end the relations still active; then the pipeline is closed."""
        if self._closed:
            return []
        try:
            last = self._index - 1
            ended = self._builder.finish(last, self._last_time or 0.0) if last >= 0 else []
            return [self._stream.stamp(record) for record in ended]
        finally:
            self.close()

    def close(self) -> None:
        """Release the detectors. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for _, detector in self._detectors:
            with contextlib.suppress(Exception):  # closing must not mask the caller's own outcome
                detector.close()

    def __enter__(self) -> EmbeddedPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pipeline(pipeline: str | Path | PipelineConfig, *, records: Iterable[str] | None = None) -> EmbeddedPipeline:
    """`EmbeddedPipeline` for ``pipeline`` (a YAML path or a loaded config); ``orchestrator.open``."""
    return EmbeddedPipeline(pipeline, records=records)
