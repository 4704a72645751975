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
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from detectors.detections import Detections
from detectors.detector import Detector
from detectors.errors import DetectorError
from orchestrator.config import DetectorSpec, PipelineConfig, instantiate, resolve_source_uri
from orchestrator.errors import PipelineError, UserError
from orchestrator.events import DetectorStats, Record, RecordStream, SummaryRecord
from orchestrator.frames import Frame, FrameStore, resize_source
from orchestrator.scene import Scene
from orchestrator.scene_builder import DetectorResult, SceneBuilder
from orchestrator.schedules import make_schedule
from orchestrator.sources import Source, open_source

MODES = ("deterministic", "realtime")
_POLL_S = 0.05
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
    """Figures for the summary; written by one thread each, read after the threads end."""

    def __init__(self, names: list[str]) -> None:
        self.frames_read = 0
        self.frames_processed = 0
        self.last_frame = -1
        self.last_time = 0.0
        self.scheduled = dict.fromkeys(names, 0)
        self.runs = dict.fromkeys(names, 0)
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
    """

    def __init__(
        self,
        config: PipelineConfig,
        source: str | int | None = None,
        mode: str | None = None,
        max_frames: int | None = None,
        records: tuple[str, ...] | None = None,
        on_frame: Callable[[Frame, Scene], None] | None = None,
    ) -> None:
        if mode is not None and mode not in MODES:
            raise UserError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        if max_frames is not None and max_frames < 0:
            raise UserError(f"max_frames must be >= 0, got {max_frames}")
        self.config = config
        uri = resolve_source_uri(source, base=Path.cwd()) if source is not None else config.source.uri
        if uri is None:
            raise UserError(f"{config.path}: no source: give --source or set source.uri in the pipeline")
        self.source_uri = uri
        self._requested_mode = mode or (None if config.runtime.mode == "auto" else config.runtime.mode)
        self.max_frames = max_frames
        self.emit = set(config.outputs.records if records is None else records)
        self._stop = threading.Event()
        self._interrupted = False
        self._error: str | None = None
        self._error_lock = threading.Lock()
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

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """Ask the run to end: safe from a signal handler or another thread."""
        self._interrupted = True
        self._stop.set()

    def _fail(self, message: str) -> None:
        with self._error_lock:
            if self._error is None:
                self._error = message
        self._stop.set()

    # ------------------------------------------------------------------ the run
    def records(self) -> Iterator[dict[str, Any]]:
        """Run the pipeline, yielding each record (a JSON-ready dict) as fusion produces it.

        The last record is always the summary. A detector failure yields the summary (status
        ``error``) and then raises `PipelineError`; closing the iterator early stops the run.
        """
        source = open_source(self.source_uri, self.config.source.fps)
        self.source = source
        try:
            self._scenes = SceneBuilder(self.config, self.emit, fps=source.fps)
        except BaseException:
            source.close()
            raise
        try:
            detectors = self._load_detectors()
        except BaseException:
            source.close()
            raise
        self.mode = self._requested_mode or ("realtime" if source.live else "deterministic")
        realtime = self.mode == "realtime"
        names = [spec.name for spec, _ in detectors]
        counters = _Counters(names)
        store = FrameStore(self.config.runtime.frame_buffer, drop_oldest=realtime, stop=self._stop)
        board = ResultBoard(capacity=max(8, 4 * store.capacity * max(1, len(names))), stop=self._stop)
        threads = [
            threading.Thread(
                target=self._read, args=(source, detectors, store, counters, realtime), name="reader", daemon=True
            )
        ]
        # A second stage runs in its input's worker, right after it on the same frame: it needs that
        # result, and a thread of its own would only wait for it.
        stages = {spec.name: [(st, d) for st, d in detectors if st.input == spec.name] for spec, _ in detectors}
        threads += [
            threading.Thread(
                target=self._work,
                args=(spec, detector, stages[spec.name], store, board, counters, realtime),
                name=f"detector:{spec.name}",
                daemon=True,
            )
            for spec, detector in detectors
            if spec.input is None
        ]
        stream = RecordStream()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        finished = False
        try:
            fuse = self._fuse_realtime if realtime else self._fuse_deterministic
            for record in fuse(store, board, counters, names, threads):
                yield stream.stamp(record)
            finished = True
        finally:
            self._stop.set()
            store.wake()
            board.wake()
            for thread in threads:
                thread.join(timeout=30)
            for _, detector in detectors:
                with contextlib.suppress(Exception):  # closing must not mask the run's own outcome
                    detector.close()
            source.close()
            self.peak_frames_held, self.peak_results_held = store.peak, board.peak
        if not finished:  # pragma: no cover - only reached through GeneratorExit, which skips here
            return
        if not self._error:
            # Relations still active end with the stream (also on Ctrl-C: nothing is left open).
            for record in self._scenes.finish(counters.last_frame, counters.last_time):
                yield stream.stamp(record)
        wall = time.perf_counter() - started
        status = "error" if self._error else ("interrupted" if self._interrupted else "completed")
        stats = {}
        for spec, _ in detectors:
            lat = np.asarray(counters.latencies[spec.name], dtype=np.float64)
            runs = counters.runs[spec.name]
            stats[spec.name] = DetectorStats(
                plugin=spec.plugin,
                runs=runs,
                drops=max(0, counters.scheduled[spec.name] - runs) + board.discarded.get(spec.name, 0),
                latency_p50_ms=float(np.percentile(lat, 50)) if lat.size else None,
                latency_p95_ms=float(np.percentile(lat, 95)) if lat.size else None,
            )
        yield stream.stamp(
            SummaryRecord(
                frame=counters.last_frame,
                time=counters.last_time,
                status=status,
                error=self._error,
                pipeline=self.config.name,
                source=source.describe(),
                mode=self.mode,
                frames_read=counters.frames_read,
                frames_processed=counters.frames_processed,
                frames_dropped=counters.frames_read - counters.frames_processed,
                detectors=stats,
                fps=counters.frames_processed / wall if wall > 0 else 0.0,
                wall_time_s=wall,
            )
        )
        if self._error:
            raise PipelineError(self._error)

    def _load_detectors(self) -> list[tuple[DetectorSpec, Detector]]:
        from orchestrator.modelstore.binding import bind_model_files

        detectors = instantiate(self.config)
        loaded: list[tuple[DetectorSpec, Detector]] = []
        try:
            for spec, detector in detectors:
                try:
                    bind_model_files(detector)
                    detector.load()
                except (UserError, DetectorError) as exc:
                    raise UserError(f"detector '{spec.name}' ({spec.plugin}): {exc}") from exc
                except Exception as exc:
                    raise PipelineError(
                        f"detector '{spec.name}' ({spec.plugin}) failed to load: {type(exc).__name__}: {exc}"
                    ) from exc
                loaded.append((spec, detector))
        except BaseException:
            for _, detector in detectors:
                detector.close()
            raise
        return loaded

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
        index = 0
        started = time.monotonic()
        try:
            while not self._stop.is_set() and (self.max_frames is None or index < self.max_frames):
                item = source.read()
                if item is None:
                    break
                bgr, time_s = item
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
                for name in scheduled:
                    counters.scheduled[name] += 1
                if not store.put(Frame(index, time_s, pixels, scheduled, channel_order="bgr")):
                    for name in scheduled:  # never stored: not a drop of the detector
                        counters.scheduled[name] -= 1
                    break
                counters.frames_read += 1
                index += 1
        except UserError as exc:
            self._fail(str(exc))
        except Exception as exc:
            self._fail(f"source {source.describe()}: failed at frame {index}: {type(exc).__name__}: {exc}")
        finally:
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
        last = -1
        while True:
            frame = take(spec.name, last)
            if frame is None:
                return
            started = time.perf_counter()
            try:
                detections = detector.detect_frame(frame.image(detector.channel_order), frame.index, frame.time_s)
                if not isinstance(detections, Detections):
                    raise TypeError(f"detect returned {type(detections).__name__}, expected Detections")
            except Exception as exc:
                self._fail(
                    f"detector '{spec.name}' ({spec.plugin}) failed on frame {frame.index}: {type(exc).__name__}: {exc}"
                )
                store.wake()
                board.wake()
                return
            latency_ms = (time.perf_counter() - started) * 1000.0
            counters.runs[spec.name] += 1
            counters.latencies[spec.name].append(latency_ms)
            board.post(DetectorResult(spec.name, frame.index, frame.time_s, detections, latency_ms))
            for stage_spec, stage in stages:
                if not self._run_stage(stage_spec, stage, frame, detections, board, counters):
                    store.wake()
                    board.wake()
                    return
            last = frame.index

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
            self._fail(
                f"detector '{spec.name}' ({spec.plugin}) failed on frame {frame.index}: {type(exc).__name__}: {exc}"
            )
            return False
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
            yield from self._fuse_frame(frame, board.drain(frame.index))
            self._notify(frame)
            counters.frames_processed += 1
            counters.last_frame, counters.last_time = frame.index, frame.time_s
        if self._stop.is_set():
            return
        # End of stream: let the workers finish the frames they hold, then apply what they found.
        for thread in threads:
            thread.join()
        leftovers = board.drain(counters.last_frame)
        if leftovers:
            # The tracker has already reported the last frame; what arrived after it is recorded only.
            assert self._scenes is not None
            yield from self._scenes.record_late(leftovers)

    def _notify(self, frame: Frame) -> None:
        if self.on_frame is not None and self._scenes is not None and self._scenes.scene is not None:
            self.on_frame(frame, self._scenes.scene)

    def _fuse_frame(self, frame: Frame, results: list[DetectorResult]) -> Iterator[Record]:
        """Everything fusion does for one frame, given the detector results that arrived for it."""
        assert self._scenes is not None
        yield from self._scenes.step(frame.index, frame.time_s, (frame.width, frame.height), results)
