"""The threaded runtime: a reader, one worker per detector, and fusion in frame order.

::

    source ─► reader thread ─► FrameStore ─► worker thread per detector ─► ResultBoard
                 (BGR→RGB once,     (bounded)      (its schedule's frames)        │
                  schedule stamps)      │                                        ▼
                                        └──────────────► fusion (caller's thread, frame order)
                                                           ─► records ─► sinks

Fusion runs in the thread that iterates `Runtime.records`, so nothing downstream of it (the
tracker, relations, sinks, a user's loop) needs to know about threads.

Modes:

* ``deterministic``: every scheduled detection runs and fusion waits for it; records (all but
  the summary, which has timings) are the same byte for byte whatever the thread timing.
* ``realtime``: the reader never waits (a file is paced at its frame rate, like a camera);
  the oldest unprocessed frame is evicted when the store is full; workers take the newest frame
  scheduled for them; fusion never waits for a detector and applies results as they arrive.

Example:
    >>> from orchestrator.config import load_pipeline
    >>> runtime = Runtime(load_pipeline("pipelines/hands_only.yaml"), source="clip.mp4")  # doctest: +SKIP
    >>> for record in runtime.records():                                                # doctest: +SKIP
    ...     print(record["type"], record["frame"])
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detectors.detections import Detections
from detectors.detector import Detector
from orchestrator.config import DetectorSpec, PipelineConfig, resolve_source_uri
from orchestrator.config.env import is_url
from orchestrator.errors import OrchestratorError, PipelineError, UserError
from orchestrator.events import DetectorStats, Record, RecordStream, StreamStartRecord, SummaryRecord
from orchestrator.frames import Frame, FrameStore, resize_source
from orchestrator.loading import load_detectors
from orchestrator.provenance import stream_header
from orchestrator.scene import Scene
from orchestrator.scene_builder import DetectorResult, SceneBuilder
from orchestrator.schedules import make_schedule
from orchestrator.sources import Source, open_source
from orchestrator.sources.iterable import is_frame_iterable

MODES = ("deterministic", "realtime")
_POLL_S = 0.05
#: After a stop, how long the threads together get to finish what they are doing before they are
#: abandoned (they are daemons): a stop must end the run in about a second whatever a detector or
#: the source is doing (a plugin stuck in a loop, a stream that stalls).
_JOIN_BUDGET_S = 0.4
#: Skipped file names the summary lists at most (the count is always whole).
MAX_SKIPPED_NAMES = 20
#: How a source's end ends the run (``source.end_status``): status and whether it is a failure.
SOURCE_END_STATUSES = ("completed", "truncated", "source_lost", "error")
#: Latencies kept per detector for the summary's percentiles: enough for hours at 30 fps.
_LATENCY_WINDOW = 100_000


class ResultBoard:
    """Where workers post results and fusion collects them; bounded by ``capacity``.

    In deterministic mode the bound is never reached (a result exists only for a frame still in
    the frame store); in realtime mode the oldest result is discarded, and counted, when fusion
    is behind.
    """

    def __init__(self, capacity: int, stop: threading.Event) -> None:
        self.capacity = capacity
        self._stop = stop
        self._results: dict[tuple[int, str], DetectorResult] = {}
        self._cond = threading.Condition()
        self.discarded: dict[str, int] = {}
        self.peak = 0

    def post(self, result: DetectorResult) -> None:
        with self._cond:
            while len(self._results) >= self.capacity:
                oldest = min(self._results)
                del self._results[oldest]
                self.discarded[oldest[1]] = self.discarded.get(oldest[1], 0) + 1
            self._results[(result.frame_index, result.detector)] = result
            self.peak = max(self.peak, len(self._results))
            self._cond.notify_all()

    def wait_for(self, frame_index: int, names: frozenset[str]) -> dict[str, DetectorResult] | None:
        """Deterministic: block until every detector in ``names`` answered on ``frame_index``.

        None on stop, unless the answers are already all there: a frame a detector answered
        before another one failed (or before Ctrl-C) is still processed, never silently dropped.
        """
        with self._cond:
            while True:
                if all((frame_index, name) in self._results for name in names):
                    return {name: self._results.pop((frame_index, name)) for name in names}
                if self._stop.is_set():
                    return None
                self._cond.wait(_POLL_S)

    def drain(self, up_to_frame: int) -> list[DetectorResult]:
        """Realtime: every result for frames ``<= up_to_frame``, oldest first."""
        with self._cond:
            keys = sorted(k for k in self._results if k[0] <= up_to_frame)
            return [self._results.pop(k) for k in keys]

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class _Counters:
    """Figures for the summary; each written by one thread, read after the threads end (or are abandoned)."""

    def __init__(self, names: list[str]) -> None:
        self.frames_read = 0
        self.frames_processed = 0
        self.last_frame = -1
        self.last_time = 0.0
        self.scheduled = dict.fromkeys(names, 0)
        self.runs = dict.fromkeys(names, 0)
        #: Frames a detector with ``on_error: skip`` raised on (its result there is empty).
        self.errors = dict.fromkeys(names, 0)
        self.first_error: dict[str, str] = {}
        self.latencies: dict[str, deque[float]] = {n: deque(maxlen=_LATENCY_WINDOW) for n in names}


class Runtime:
    """Runs one pipeline over one source. Iterate `records` to drive it; call `stop` to end early.

    Args:
        config: a validated pipeline.
        source: overrides ``source.uri`` (camera index, file, folder or URL).
        mode: ``deterministic`` or ``realtime``; default by source kind (files and folders are
            deterministic, cameras and streams realtime), or the pipeline's ``runtime.mode``.
        max_frames: stop after reading this many frames.
        records: per-frame record types to emit; default the pipeline's ``outputs.records``.
        detectors: already loaded detectors, ``(spec, detector)`` in the pipeline's order, to run
            instead of loading the pipeline's own (several streams sharing one model each); the
            runtime does not close them: their owner does.
    """

    def __init__(
        self,
        config: PipelineConfig,
        source: Any = None,
        mode: str | None = None,
        max_frames: int | None = None,
        records: tuple[str, ...] | None = None,
        on_frame: Callable[[Frame, Scene], None] | None = None,
        detectors: Sequence[tuple[DetectorSpec, Detector]] | None = None,
    ) -> None:
        if mode is not None and mode not in MODES:
            raise UserError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        if max_frames is not None and max_frames < 0:
            raise UserError(f"max_frames must be >= 0, got {max_frames}")
        self.config = config
        if isinstance(source, np.ndarray) and source.ndim == 3:
            raise UserError(
                f"source: one image {source.shape} is not a sequence of frames: pass a list of images, "
                "or process one image with orchestrator.open(pipeline).process(image)"
            )
        if source is not None and not (
            (isinstance(source, str | int | os.PathLike) and not isinstance(source, bool)) or is_frame_iterable(source)
        ):
            raise UserError(
                f"source: expected a file, folder or URL (str or path), a camera index (int) or an iterable of "
                f"frames, got {type(source).__name__}"
            )
        if source is not None and is_frame_iterable(source):
            uri: Any = source  # the caller's own frames (sources.IterableSource)
        else:
            uri = resolve_source_uri(source, base=Path.cwd()) if source is not None else config.source.uri
        if uri is None:
            raise UserError(f"{config.path}: no source: give --source or set source.uri in the pipeline")
        self.source_uri = uri
        self._requested_mode = mode or (None if config.runtime.mode == "auto" else config.runtime.mode)
        self.max_frames = max_frames
        self.emit = set(config.outputs.records if records is None else records)
        self._given_detectors = list(detectors) if detectors is not None else None
        self._stop = threading.Event()
        self._interrupted = False
        self._error: str | None = None
        self._error_lock = threading.Lock()
        #: Why the source ended in error (set by the reader): frames read before it are still processed.
        self._source_error: str | None = None
        #: The reader stopped at ``max_frames``: the source was not read to its end, on purpose.
        self._limit_reached = False
        #: Thread name -> the frame it is working on (None while it waits): who a stop abandons, and where.
        self._busy: dict[str, int | None] = {}
        self._on_frame_failed = False
        self.mode = ""
        self._scenes: SceneBuilder | None = None
        #: Called by fusion after each frame with the frame and the scene (display, video-out,
        #: progress). It runs in the thread iterating `records`; keep it cheap or hand work off.
        self.on_frame = on_frame
        #: Known once `records` has opened the source.
        self.source: Source | None = None
        #: After a run: the most frames the store held at once, and the most pending results.
        self.peak_frames_held = 0
        self.peak_results_held = 0
        #: After a run: threads a stop left behind, still busy (``{"thread": name, "frame": index}``).
        self.abandoned: list[dict[str, Any]] = []
        #: The stream's header until fusion emits it (`_start`).
        self._header: StreamStartRecord | None = None

    # ------------------------------------------------------------------ control
    @property
    def stopping(self) -> bool:
        """True once the run was asked to end (`stop`, a failure, or its end): waits should give up."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the run to end: safe from a signal handler or another thread.

        Waits in the runtime wake within `_POLL_S`; a source waiting to reconnect is interrupted.
        """
        self._interrupted = True
        self._stop.set()
        self._interrupt_source()

    def _interrupt_source(self) -> None:
        if self.source is not None:
            with contextlib.suppress(Exception):  # a stop must never fail
                self.source.interrupt()

    def _fail(self, message: str) -> None:
        with self._error_lock:
            if self._error is None:
                self._error = message
        self._stop.set()

    # ------------------------------------------------------------------ the run
    def records(self) -> Iterator[dict[str, Any]]:
        """Run the pipeline, yielding each record (a JSON-ready dict) as fusion produces it.

        The first record is the stream's header (``stream.start``: source, frame size, pipeline
        hash, detectors' models; emitted once the first frame is read, or before the summary when
        none came), unless a stop came while the source was opening (then the summary is the only
        record). The last record is always the summary, whose ``status`` says how the run ended:
        ``completed`` (the whole source, or ``max_frames``), ``truncated`` (the source ended early
        or skipped damaged frames), ``source_lost``, ``interrupted`` (`stop`) or ``error``. A
        detector failure, a source error or a lost source yields the summary and then raises
        `PipelineError`; frames read before a source error are processed first. Closing the
        iterator early stops the run. A stop ends it within about a second: threads still busy
        then (a hung detector or source) are abandoned and named in the summary's ``abandoned``.
        """
        started = time.perf_counter()
        source = self._open_source()
        if source is None:  # stopped while the source was opening
            names = [spec.name for spec in self.config.detectors]
            yield RecordStream().stamp(self._summary(None, _Counters(names), {}, time.perf_counter() - started))
            return
        self.source = source
        if self._stop.is_set():
            self._interrupt_source()  # a stop that came while the source opened
        detectors: list[tuple[DetectorSpec, Detector]] = []
        try:
            self._scenes = SceneBuilder(self.config, self.emit, fps=source.fps)
            detectors = self._load_detectors()
            self.mode = self._requested_mode or ("realtime" if source.live else "deterministic")
            header = stream_header(
                self.config,
                detectors,
                records=self.emit,
                source=source.name,
                source_kind=source.kind,
                fps=source.fps,
                fps_stated=source.fps_stated,
                frame_count=source.known_frame_count,
                mode=self.mode,
            )
        except BaseException:
            source.close()
            for _, detector in detectors:  # loaded, but the header could not be made (a plugin's provenance)
                with contextlib.suppress(Exception):
                    detector.close()
            raise
        self._header = header
        realtime = self.mode == "realtime"
        names = [spec.name for spec, _ in detectors]
        counters = _Counters(names)
        store = FrameStore(self.config.runtime.frame_buffer, drop_oldest=realtime, stop=self._stop)
        board = ResultBoard(capacity=max(8, 4 * store.capacity * max(1, len(names))), stop=self._stop)
        reader = threading.Thread(
            target=self._read, args=(source, detectors, store, counters, realtime), name="reader", daemon=True
        )
        # A second stage runs in its input's worker, right after it on the same frame: it needs that
        # result, and a thread of its own would only wait for it.
        stages = {spec.name: [(st, d) for st, d in detectors if st.input == spec.name] for spec, _ in detectors}
        workers = {
            spec.name: threading.Thread(
                target=self._work,
                args=(spec, detector, stages[spec.name], store, board, counters, realtime),
                name=f"detector:{spec.name}",
                daemon=True,
            )
            for spec, detector in detectors
            if spec.input is None
        }
        threads = [reader, *workers.values()]
        stream = RecordStream(file_of=source.file_name)
        for thread in threads:
            self._busy[thread.name] = None
            thread.start()
        finished = False
        try:
            fuse = self._fuse_realtime if realtime else self._fuse_deterministic
            last_frame = None
            try:
                for record in fuse(store, board, counters, names, threads):
                    if not isinstance(record, StreamStartRecord):  # dated at the first frame, before fusing it
                        last_frame = getattr(record, "frame", last_frame)
                    yield stream.stamp(record)
            except Exception as exc:  # a bug in tracking or relations: end like a failed worker, with a summary
                after = "before the first frame" if last_frame is None else f"after frame {last_frame}"
                self._fail(f"fusing the detectors' results failed {after}: {type(exc).__name__}: {exc}")
            for record in self._start(None):  # no frame came: the header still opens the stream
                yield stream.stamp(record)
            finished = True
        finally:
            self._stop.set()
            self._interrupt_source()
            store.wake()
            board.wake()
            self.abandoned = self._join(threads)
            left = {entry["thread"] for entry in self.abandoned}
            for spec, detector in detectors if self._given_detectors is None else ():
                if f"detector:{spec.input or spec.name}" in left:
                    continue  # still inside the plugin: closing it under its feet could crash the process
                with contextlib.suppress(Exception):  # closing must not mask the run's own outcome
                    detector.close()
            if reader.name not in left:
                source.close()
            self.peak_frames_held, self.peak_results_held = store.peak, board.peak
        if not finished:  # pragma: no cover - only reached through GeneratorExit, which skips here
            return
        if not self._error:
            # Relations still active end with the stream (also on Ctrl-C: nothing is left open).
            for record in self._scenes.finish(counters.last_frame, counters.last_time):
                yield stream.stamp(record)
        summary = self._summary(source, counters, board.discarded, time.perf_counter() - started)
        yield stream.stamp(summary)
        if summary.status in ("error", "source_lost"):
            raise PipelineError(summary.error or f"source {summary.source}: {summary.status}")

    def _open_source(self) -> Source | None:
        """Open the source in a helper thread, so that a stop is not held up by a stream that never answers.

        Returns None if the run was stopped first (the helper closes the source if it opens later);
        raises what opening raised (`UserError` for a missing file, an unreachable stream, ...).
        """
        if self._interrupted:
            # Stopped before opening began (while shared models loaded): open nothing. A helper left
            # inside FFmpeg at interpreter exit aborts the process.
            return None
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                spec = self.config.source
                opened = open_source(
                    self.source_uri,
                    spec.fps,
                    timeout_s=spec.timeout_s,
                    reconnect=spec.reconnect,
                    on_bad_frame=spec.on_bad_frame,
                    decode_threads=spec.decode_threads,
                )
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc
                return
            outcome["source"] = opened
            if outcome.get("abandoned"):
                opened.close()

        opener = threading.Thread(target=target, name="source-open", daemon=True)
        opener.start()
        while opener.is_alive():
            if self._interrupted:
                outcome["abandoned"] = True
                self.abandoned = [{"thread": opener.name, "frame": None}]
                if "source" in outcome:  # opened just now, after the check in the helper
                    outcome["source"].close()
                return None
            opener.join(_POLL_S)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["source"]

    def _join(self, threads: list[threading.Thread]) -> list[dict[str, Any]]:
        """Join ``threads`` within `_JOIN_BUDGET_S` in all; the ones still alive, with their frame."""
        deadline = time.monotonic() + _JOIN_BUDGET_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [
            {"thread": thread.name, "frame": self._busy.get(thread.name)} for thread in threads if thread.is_alive()
        ]

    def _summary(
        self, source: Source | None, counters: _Counters, discarded: dict[str, int], wall: float
    ) -> SummaryRecord:
        """The run's summary: how it ended, from the first failure to the source's own end status."""
        status, error = self._status(source)
        stats = {}
        for spec in self.config.detectors:
            lat = np.asarray(counters.latencies[spec.name], dtype=np.float64)
            runs, errors = counters.runs[spec.name], counters.errors[spec.name]
            stats[spec.name] = DetectorStats(
                plugin=spec.plugin,
                runs=runs,
                drops=max(0, counters.scheduled[spec.name] - runs - errors) + discarded.get(spec.name, 0),
                latency_p50_ms=float(np.percentile(lat, 50)) if lat.size else None,
                latency_p95_ms=float(np.percentile(lat, 95)) if lat.size else None,
                errors=errors,
                first_error=counters.first_error.get(spec.name),
                boxes_dropped=self._scenes.boxes_dropped.get(spec.name, 0) if self._scenes is not None else 0,
            )
        skipped_names = tuple(source.skipped_names) if source is not None else ()
        return SummaryRecord(
            frame=counters.last_frame,
            time=counters.last_time,
            status=status,
            error=error,
            pipeline=self.config.name,
            source=source.describe() if source is not None else str(self.source_uri),
            mode=self.mode or self._requested_mode or ("realtime" if _live_uri(self.source_uri) else "deterministic"),
            frames_read=counters.frames_read,
            frames_processed=counters.frames_processed,
            frames_dropped=counters.frames_read - counters.frames_processed,
            frames_skipped=source.frames_skipped if source is not None else 0,
            frames_expected=source.frames_expected if source is not None else None,
            skipped_files=skipped_names[:MAX_SKIPPED_NAMES],
            source_fps_measured=source.fps_measured if source is not None else None,
            stalls=source.stalls if source is not None else 0,
            reconnects=source.reconnects if source is not None else 0,
            abandoned=tuple(self.abandoned),
            detectors=stats,
            fps=counters.frames_processed / wall if wall > 0 else 0.0,
            wall_time_s=wall,
        )

    def _status(self, source: Source | None) -> tuple[str, str | None]:
        """``(status, error)``: a detector's failure first, then the source's, a stop, then how the source ended."""
        if self._error:
            return "error", self._error
        if self._source_error:
            return "error", self._source_error
        if self._interrupted or source is None:
            return "interrupted", None
        if self._limit_reached:
            return "completed", None
        status = source.end_status
        if status == "interrupted":  # the source was interrupted (closed) by someone else than `stop`
            return status, None
        if status not in SOURCE_END_STATUSES:  # None: the reader was abandoned before the source ended
            return "error", f"source {source.describe()}: ended with no end status ({status!r})"
        if status in ("error", "source_lost"):
            return status, source.end_error or f"source {source.describe()}: {status}"
        return status, None

    def _load_detectors(self) -> list[tuple[DetectorSpec, Detector]]:
        if self._given_detectors is not None:
            return self._given_detectors
        return load_detectors(self.config)

    # ------------------------------------------------------------------ threads
    def _read(
        self,
        source: Source,
        detectors: list[tuple[DetectorSpec, Detector]],
        store: FrameStore,
        counters: _Counters,
        realtime: bool,
    ) -> None:
        schedules = [
            (spec.name, make_schedule(spec.every_n_frames, spec.max_fps)) for spec, _ in detectors if spec.input is None
        ]
        stages = [(spec.name, spec.input) for spec, _ in detectors if spec.input is not None]
        pace = realtime and not source.live and self.config.runtime.pace
        delivered = 0
        index = 0
        started = time.monotonic()
        me = threading.current_thread().name
        if not source.live:
            lower_reader_priority()
        try:
            while not self._stop.is_set():
                if self.max_frames is not None and delivered >= self.max_frames:
                    self._limit_reached = True
                    break
                self._busy[me] = index
                item = source.read()
                self._busy[me] = None
                if item is None:
                    break
                bgr, time_s = item
                # The frame's position in the source: damaged frames (a video's) or images (a
                # folder's) skipped before it keep their numbers, so frame N is the file's frame N.
                index = delivered + source.frames_skipped
                if pace:
                    # A file in realtime mode behaves like a camera: frames arrive at its frame rate.
                    delay = started + time_s - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        break
                # Kept as decoded (BGR): each detector takes its own channel order from the frame, so a
                # detector that converts only its small crops spares the run a full-frame conversion.
                pixels = resize_source(bgr, self.config.source.resize)
                due = {name for name, schedule in schedules if schedule.due(index, time_s)}
                scheduled = frozenset(due | {name for name, input_name in stages if input_name in due})
                for name_ in scheduled:
                    counters.scheduled[name_] += 1
                if not store.put(Frame(index, time_s, pixels, scheduled, channel_order="bgr")):
                    for name_ in scheduled:  # never stored: not a drop of the detector
                        counters.scheduled[name_] -= 1
                    break
                counters.frames_read += 1
                delivered += 1
                index += 1
        except OrchestratorError as exc:
            # Not `_fail`: the frames already read are still processed and written, then the summary says why.
            self._source_error = str(exc)
        except Exception as exc:
            self._source_error = f"source {source.describe()}: failed at frame {index}: {type(exc).__name__}: {exc}"
        finally:
            self._busy[me] = None
            store.close()

    def _work(
        self,
        spec: DetectorSpec,
        detector: Detector,
        stages: list[tuple[DetectorSpec, Detector]],
        store: FrameStore,
        board: ResultBoard,
        counters: _Counters,
        realtime: bool,
    ) -> None:
        take = store.newest_scheduled if realtime else store.next_scheduled
        name = threading.current_thread().name
        last = -1
        while True:
            frame = take(spec.name, last)
            if frame is None:
                return
            self._busy[name] = frame.index
            started = time.perf_counter()
            try:
                detections = detector.detect_frame(frame.image(detector.channel_order), frame.index, frame.time_s)
                if not isinstance(detections, Detections):
                    raise TypeError(f"detect returned {type(detections).__name__}, expected Detections")
            except Exception as exc:
                if not self._detector_failed(spec, frame, exc, counters):
                    store.wake()
                    board.wake()
                    return
                # Skipped: this frame's result is empty, and so are its second stages' (they refine it).
                board.post(DetectorResult(spec.name, frame.index, frame.time_s, Detections.empty(), 0.0))
                for stage_spec, _ in stages:
                    board.post(DetectorResult(stage_spec.name, frame.index, frame.time_s, Detections.empty(), 0.0))
                self._busy[name] = None
                last = frame.index
                continue
            latency_ms = (time.perf_counter() - started) * 1000.0
            counters.runs[spec.name] += 1
            counters.latencies[spec.name].append(latency_ms)
            board.post(DetectorResult(spec.name, frame.index, frame.time_s, detections, latency_ms))
            for stage_spec, stage in stages:
                if not self._run_stage(stage_spec, stage, frame, detections, board, counters):
                    store.wake()
                    board.wake()
                    return
            self._busy[name] = None
            last = frame.index

    def _detector_failed(self, spec: DetectorSpec, frame: Frame, exc: Exception, counters: _Counters) -> bool:
        """Count or report ``exc`` of detector ``spec`` on ``frame``; True if the run goes on (``on_error: skip``)."""
        message = f"detector '{spec.name}' ({spec.plugin}) failed on frame {frame.index}: {type(exc).__name__}: {exc}"
        if spec.on_error == "skip":
            counters.errors[spec.name] += 1
            counters.first_error.setdefault(spec.name, message)
            return True
        self._fail(message)
        return False

    def _run_stage(
        self,
        spec: DetectorSpec,
        stage: Detector,
        frame: Frame,
        detections: Detections,
        board: ResultBoard,
        counters: _Counters,
    ) -> bool:
        """Run second stage ``stage`` on its input's ``detections``; False when it failed (run stopped)."""
        started = time.perf_counter()
        try:
            refined = stage.detect_on(frame.image(stage.channel_order), detections)
            if not isinstance(refined, Detections):
                raise TypeError(f"detect_on returned {type(refined).__name__}, expected Detections")
        except Exception as exc:
            if not self._detector_failed(spec, frame, exc, counters):
                return False
            board.post(DetectorResult(spec.name, frame.index, frame.time_s, Detections.empty(), 0.0))
            return True
        latency_ms = (time.perf_counter() - started) * 1000.0
        counters.runs[spec.name] += 1
        counters.latencies[spec.name].append(latency_ms)
        board.post(DetectorResult(spec.name, frame.index, frame.time_s, refined, latency_ms))
        return True

    # ------------------------------------------------------------------ fusion
    def _fuse_deterministic(
        self,
        store: FrameStore,
        board: ResultBoard,
        counters: _Counters,
        names: list[str],
        threads: list[threading.Thread],
    ) -> Iterator[Record]:
        while True:
            frame = store.take_oldest(remove=False)
            if frame is None:
                return
            yield from self._start(frame)
            results = board.wait_for(frame.index, frame.scheduled)
            if results is None:
                return
            ordered = [results[name] for name in names if name in results]
            yield from self._fuse_frame(frame, ordered)
            self._notify(frame)
            store.remove(frame.index)
            counters.frames_processed += 1
            counters.last_frame, counters.last_time = frame.index, frame.time_s

    def _fuse_realtime(
        self,
        store: FrameStore,
        board: ResultBoard,
        counters: _Counters,
        names: list[str],
        threads: list[threading.Thread],
    ) -> Iterator[Record]:
        while True:
            frame = store.take_oldest(remove=True)
            if frame is None:
                break
            yield from self._start(frame)
            yield from self._fuse_frame(frame, board.drain(frame.index))
            self._notify(frame)
            counters.frames_processed += 1
            counters.last_frame, counters.last_time = frame.index, frame.time_s
        # End of stream: let the workers finish the frames they hold, then apply what they found. A
        # hung worker is waited for only until a stop (never `join()` without a bound: the process
        # would be unkillable but by SIGKILL).
        for thread in threads:
            while thread.is_alive() and not self._stop.is_set():
                thread.join(_POLL_S)
        if self._stop.is_set():
            return
        leftovers = board.drain(counters.last_frame)
        if leftovers:
            # The tracker has already reported the last frame; what arrived after it is recorded only.
            assert self._scenes is not None
            yield from self._scenes.record_late(leftovers)

    def _start(self, frame: Frame | None) -> Iterator[Record]:
        """The stream's header, once: dated and sized by the first frame (``frame``), or without one."""
        header, self._header = self._header, None
        if header is None:
            return
        if frame is not None:
            header = dataclasses.replace(
                header, frame=frame.index, time=frame.time_s, width=frame.width, height=frame.height
            )
        yield header

    def _notify(self, frame: Frame) -> None:
        if self.on_frame is None or self._on_frame_failed or self._scenes is None or self._scenes.scene is None:
            return
        try:
            self.on_frame(frame, self._scenes.scene)
        except Exception as exc:
            # The video writer or the display failed: the run ends with an error summary, and the
            # records of the frames fused so far stay written.
            self._on_frame_failed = True
            self._fail(str(exc) if isinstance(exc, OrchestratorError) else f"{type(exc).__name__}: {exc}")

    def _fuse_frame(self, frame: Frame, results: list[DetectorResult]) -> Iterator[Record]:
        """Everything fusion does for one frame, given the detector results that arrived for it."""
        assert self._scenes is not None
        yield from self._scenes.step(frame.index, frame.time_s, (frame.width, frame.height), results)


#: Niceness added to the reader thread of a file source (Linux). Measured on the 2-core machine with
#: hands_only on basic_pick_and_place_0 (1080p), five alternating runs: 47.9 fps at 0, 50.7 at +10.
#: A file's reader only reads ahead; at normal priority its decoding preempts the model runtime's
#: worker threads, which wait for each other at every layer. It cannot hold the run back: when the
#: detectors wait for frames, the cores are free for it (against other processes' busy threads it
#: still gets about a tenth of a core). Live sources keep normal priority: they must not drop frames.
READER_NICENESS = 10


def lower_reader_priority(niceness: int = READER_NICENESS) -> bool:
    """Lower the calling thread's CPU priority by ``niceness`` (Linux, where priority is per thread).

    Returns whether it was done; elsewhere (where it would renice the whole process) or when the
    system refuses, nothing changes.

    Example:
        >>> isinstance(lower_reader_priority(0), bool)
        True
    """
    if not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except OSError:
        return False
    return True


def _live_uri(uri: str | int) -> bool:
    """A camera index or a stream URL (realtime by default), judged from the value alone."""
    if is_frame_iterable(uri):
        return False
    return isinstance(uri, int) or uri.strip().isdigit() or is_url(uri)
