"""Several streams in one process: one `Runtime` per named source, every detector's model shared.

::

    sources: {a: ..., b: ...}
      stream a: Runtime (reader, workers, fusion) ─┐   workers call the shared models
      stream b: Runtime (reader, workers, fusion) ─┼─► RecordMerger ─► records (caller's thread)
                                                   │      + stream: NAME, one seq
      SharedModel per detector (one dispatcher thread, one loaded plugin)

Each stream runs the whole pipeline as a single-source run would (its own tracker, relations,
frame store, schedules, realtime drops) in a thread of its own; only the detectors' models are
shared (`orchestrator.streams.shared`). Every record gets the field ``stream`` (the source's name)
and one ``seq`` over the whole run. A stream that fails (a source that cannot be opened, a lost
stream, a detector error on one of its frames) ends alone, with its own summary saying why, and
the others go on. The run ends with one more summary, without ``stream``, adding them up
(`orchestrator.streams.summary`); it raises `PipelineError` after it when a stream failed.

All streams run in one mode: the requested one, else the pipeline's ``runtime.mode``, else
realtime if any source is a camera or a stream URL, deterministic otherwise. Deterministic runs
merge the streams' records in a fixed order (`RecordMerger`): the same sources give the same
records, byte for byte but the summaries' timings.

Example:
    >>> from orchestrator.config import load_pipeline
    >>> runtime = MultiRuntime(load_pipeline("station.yaml"))          # doctest: +SKIP
    >>> for record in runtime.records():                              # doctest: +SKIP
    ...     print(record.get("stream"), record["type"], record["frame"])
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from orchestrator.config import PipelineConfig, resolve_source_uri
from orchestrator.errors import PipelineError, UserError
from orchestrator.events import DetectorStats, RecordStream, SummaryRecord
from orchestrator.loading import load_detectors
from orchestrator.runtime import MODES, Runtime, _live_uri
from orchestrator.streams.merge import RecordMerger
from orchestrator.streams.shared import SharedModel
from orchestrator.streams.summary import overall_summary

#: A stream's name, as the pipeline schema's ``sources`` keys.
STREAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: After a stop, how long the streams get to write their summaries (each stream's runtime ends its
#: own threads within 0.4 s) before the run gives up on them and names them in ``abandoned``.
_STOP_BUDGET_S = 1.0
#: How long a stopped run waits for each shared model's call in progress before abandoning it.
_MODEL_CLOSE_S = 0.2


class MultiRuntime:
    """Runs one pipeline over several named sources in one process. Iterate `records`; `stop` ends all.

    Args:
        config: a validated pipeline.
        sources: stream name -> source (camera index, file, folder or URL; relative paths against
            the current folder); default the pipeline's ``sources:``.
        mode: ``deterministic`` or ``realtime`` for every stream; default see the module docstring.
        max_frames: each stream stops after reading this many frames.
        records: per-frame record types to emit; default the pipeline's ``outputs.records``.

    Raises `UserError` for no sources, a bad stream name, a bad mode or ``max_frames``.
    """

    def __init__(
        self,
        config: PipelineConfig,
        sources: Mapping[str, Any] | None = None,
        mode: str | None = None,
        max_frames: int | None = None,
        records: tuple[str, ...] | None = None,
    ) -> None:
        if mode is not None and mode not in MODES:
            raise UserError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        if max_frames is not None and max_frames < 0:
            raise UserError(f"max_frames must be >= 0, got {max_frames}")
        if sources is None:
            uris = {stream.name: stream.uri for stream in config.sources}
        else:
            uris = {name: resolve_source_uri(uri, base=Path.cwd()) for name, uri in sources.items()}
        if not uris:
            raise UserError(f"{config.path}: no sources: set sources: {{name: uri, ...}} in the pipeline")
        for name in uris:
            if not isinstance(name, str) or not STREAM_NAME.match(name):
                raise UserError(f"stream name {name!r}: expected an identifier (letters, digits, _; not a digit first)")
        self.config = config
        self.source_uris: dict[str, Any] = uris
        self.max_frames = max_frames
        self.emit = records
        wanted = mode or (None if config.runtime.mode == "auto" else config.runtime.mode)
        self.mode = wanted or ("realtime" if any(_live_uri(uri) for uri in uris.values()) else "deterministic")
        #: Each stream's runtime, once `records` has loaded the models.
        self.runtimes: dict[str, Runtime] = {}
        #: Each stream's summary record, as it was yielded.
        self.summaries: dict[str, dict[str, Any]] = {}
        #: After a run: the shared models' figures (`SharedModel`), by detector name.
        self.models: dict[str, SharedModel] = {}
        #: Set by `stop` (a user's stop: the run is ``interrupted``), and once the run ends.
        self._stop = threading.Event()
        self._stopped = False
        self._lock = threading.Lock()

    @property
    def stopping(self) -> bool:
        """True once `stop` was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop every stream (safe from a signal handler or another thread); the run ends within about a second."""
        self._stopped = True
        self._stop_all()

    def _stop_all(self) -> None:
        self._stop.set()
        with self._lock:
            runtimes = list(self.runtimes.values())
        for runtime in runtimes:
            runtime.stop()

    def records(self) -> Iterator[dict[str, Any]]:
        """Run every stream, yielding their records merged, each with ``stream``, then the run's summary.

        Raises `UserError` / `PipelineError` when a detector does not load (before any record), and
        `PipelineError` after the run's summary when a stream ended in ``error`` or ``source_lost``.
        Closing the iterator early stops every stream.
        """
        started = time.perf_counter()
        loaded = load_detectors(self.config)
        models = {
            spec.name: SharedModel(spec.name, detector, streams=len(self.source_uris)) for spec, detector in loaded
        }
        self.models = models
        merger = RecordMerger(list(self.source_uris), ordered=self.mode == "deterministic")
        threads: dict[str, threading.Thread] = {}
        seq = 0
        finished = False
        left_models: list[str] = []
        try:
            for model in models.values():
                model.start()
            with self._lock:
                for name, uri in self.source_uris.items():
                    self.runtimes[name] = Runtime(
                        self.config,
                        source=uri,
                        mode=self.mode,
                        max_frames=self.max_frames,
                        records=self.emit,
                        detectors=[(spec, models[spec.name].for_stream(name)) for spec, _ in loaded],
                    )
            if self._stop.is_set():
                self._stop_all()  # a stop that came while the models loaded
            for name, runtime in self.runtimes.items():
                threads[name] = threading.Thread(
                    target=self._drive, args=(name, runtime, merger), name=f"stream:{name}", daemon=True
                )
                threads[name].start()
            stop_seen: list[float] = []
            while True:
                item = merger.next(give_up=lambda: self._gave_up(stop_seen))
                if item is None:
                    break
                name, record = item
                if record.get("type") == "summary":
                    self.summaries[name] = record
                yield _with_stream(record, name, seq)
                seq += 1
            finished = True
        finally:
            merger.close()
            self._stop_all()
            deadline = time.monotonic() + _STOP_BUDGET_S
            for thread in threads.values():
                thread.join(max(0.0, deadline - time.monotonic()))
            for name, model in models.items():
                if not model.close(_MODEL_CLOSE_S):
                    left_models.append(name)  # inside the plugin: closing it under its feet could crash
                    continue
                with contextlib.suppress(Exception):  # closing must not mask the run's own outcome
                    model.detector.close()
        if not finished:  # pragma: no cover - only reached through GeneratorExit, which skips here
            return
        abandoned = [{"thread": f"stream:{name}", "frame": None} for name in merger.open_streams]
        abandoned += [{"thread": f"model:{name}", "frame": None} for name in left_models]
        summary = overall_summary(
            pipeline=self.config.name,
            mode=self.mode,
            summaries={name: self.summaries[name] for name in self.source_uris if name in self.summaries},
            models={spec.name: (spec.plugin, list(models[spec.name].latencies_ms)) for spec, _ in loaded},
            abandoned=abandoned,
            stopped=self._stopped,
            wall_s=time.perf_counter() - started,
        )
        yield {**RecordStream().stamp(summary), "seq": seq}
        if summary.status in ("error", "source_lost"):
            raise PipelineError(summary.error or f"{summary.status}")

    def _gave_up(self, stop_seen: list[float]) -> bool:
        """True once a stop is `_STOP_BUDGET_S` old: streams still running then are left behind."""
        if not self._stop.is_set():
            return False
        if not stop_seen:
            stop_seen.append(time.monotonic())
        return time.monotonic() - stop_seen[0] > _STOP_BUDGET_S

    def _drive(self, name: str, runtime: Runtime, merger: RecordMerger) -> None:
        """Stream ``name``'s thread: its records into the merger; a failure ends this stream only."""
        records = runtime.records()
        summarized = False
        try:
            for record in records:
                summarized = summarized or record.get("type") == "summary"
                if not merger.put(name, record):
                    return  # nobody reads any more
        except (PipelineError, UserError) as exc:
            if not summarized:  # it failed before its run started (a source that does not open)
                merger.put(name, self._failed_summary(runtime, str(exc)))
        except Exception as exc:
            if not summarized:
                merger.put(name, self._failed_summary(runtime, f"{type(exc).__name__}: {exc}"))
        finally:
            with contextlib.suppress(Exception):
                records.close()
            merger.end(name)

    def _failed_summary(self, runtime: Runtime, error: str) -> dict[str, Any]:
        """The summary of a stream that failed before it read a frame."""
        detectors = {spec.name: DetectorStats(spec.plugin, 0, 0, None, None) for spec in self.config.detectors}
        record = SummaryRecord(
            frame=-1,
            time=0.0,
            status="error",
            error=error,
            pipeline=self.config.name,
            source=str(runtime.source_uri),
            mode=self.mode,
            detectors=detectors,
        )
        return RecordStream().stamp(record)


def _with_stream(record: dict[str, Any], name: str, seq: int) -> dict[str, Any]:
    """``record`` with the run's ``seq`` and, right after it, ``stream``."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "seq":
            out["seq"] = seq
            out["stream"] = name
        else:
            out[key] = value
    return out
