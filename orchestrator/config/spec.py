"""The resolved pipeline as frozen values: `PipelineConfig` and the specs of its sections.

`orchestrator.config.parse` builds them from a validated file; the runtime, the viewer and the
benchmarks read them. Paths in them are already resolved (absolute, ``${VAR}`` expanded).

Example:
    >>> from detectors.testing import NoopDetector
    >>> hands = DetectorSpec("hands", "testing.noop", NoopDetector, "built-in", {}, every_n_frames=2)
    >>> config = PipelineConfig(Path("p.yaml"), "p", SourceSpec(None), (hands,))
    >>> config.detector("hands").schedule_text(), config.to_dict()["detectors"]["hands"]["schedule"]
    ('every 2 frame(s)', {'every_n_frames': 2})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.relations import RelationsSpec

#: What a pipeline can opt into in ``outputs.records``: per-frame record types, and ``keypoints``,
#: which adds each detection's and track's keypoints to those records (sides are always written).
PER_FRAME_RECORDS = ("detections", "tracks", "keypoints")
#: A detector's ``on_error`` choices: an exception on one frame stops the run, or skips that frame.
ON_ERROR = ("stop", "skip")


#: ``source.on_bad_frame`` choices: an undecodable frame (an image of a folder, a damaged span of
#: a video) is skipped and counted, or ends the source with an error naming it.
ON_BAD_FRAME = ("skip", "stop")


@dataclass(frozen=True)
class ReconnectSpec:
    """How a live source (camera, stream URL) reconnects after its stream breaks.

    Up to ``attempts`` reopenings per outage (the count starts afresh once a frame arrives), the
    waits between them doubling from 0.5 s up to ``max_delay_s``; ``attempts=0`` never reconnects.
    The defaults ride out a camera or router restart (0.5 + 1 + 2 + 4 + 8 s) and still give up
    within about half a minute. Raises ValueError for a negative count or a delay <= 0.
    """

    attempts: int = 5
    max_delay_s: float = 8.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 0:
            raise ValueError(f"reconnect.attempts must be an integer >= 0, got {self.attempts!r}")
        if not self.max_delay_s > 0:
            raise ValueError(f"reconnect.max_delay_s must be > 0 seconds, got {self.max_delay_s!r}")


@dataclass(frozen=True)
class SourceSpec:
    """Where frames come from; ``uri`` is resolved (absolute path, camera index or URL).

    Raises ValueError for a ``timeout_s`` <= 0, an ``on_bad_frame`` not in `ON_BAD_FRAME` or a
    ``decode_threads`` < 0.
    """

    uri: str | int | None
    #: Frames per second used to stamp an image folder (or a video whose frames carry no timestamps).
    fps: float | None = None
    #: ``(width, height)`` in pixels every frame is resized to, or None for the source's own size.
    resize: tuple[int, int] | None = None
    #: Seconds a live source may take to open, and to deliver each frame, before it counts as stalled.
    #: Short (OpenCV's own is 30 s) so a dead stream is noticed, and a stop is not held up, in seconds.
    timeout_s: float = 5.0
    #: Reconnection of live sources; files and folders never reconnect.
    reconnect: ReconnectSpec = ReconnectSpec()
    #: What an undecodable frame does: ``skip`` (counted, named for folders) or ``stop``.
    on_bad_frame: str = "skip"
    #: FFmpeg's decoding threads for a video file; 0 leaves FFmpeg's choice (one per core). One by
    #: default: decoding then stays in the (lower-priority) reader thread and leaves the cores to
    #: the detectors; measured with bench-pipeline on 2 cores, 1.07-1.23x the fps of FFmpeg's choice.
    decode_threads: int = 1

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError(f"source.timeout_s must be > 0 seconds, got {self.timeout_s!r}")
        if self.on_bad_frame not in ON_BAD_FRAME:
            raise ValueError(f"source.on_bad_frame must be one of {', '.join(ON_BAD_FRAME)}, got {self.on_bad_frame!r}")
        threads = self.decode_threads
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
            raise ValueError(f"source.decode_threads must be an integer >= 0, got {threads!r}")

    def to_dict(self) -> dict[str, Any]:
        """The resolved section for ``validate``: the options set, and the live-source defaults.

        >>> SourceSpec("/v.mp4", resize=(640, 480)).to_dict()["resize"]
        [640, 480]
        >>> "uri" in SourceSpec(None).to_dict()   # none given (sources:, or --source at run time)
        False
        """
        return {
            **({"uri": self.uri} if self.uri is not None else {}),
            **({"fps": self.fps} if self.fps else {}),
            **({"resize": list(self.resize)} if self.resize else {}),
            "timeout_s": self.timeout_s,
            "reconnect": {"attempts": self.reconnect.attempts, "max_delay_s": self.reconnect.max_delay_s},
            "on_bad_frame": self.on_bad_frame,
            "decode_threads": self.decode_threads,
        }


@dataclass(frozen=True)
class StreamSource:
    """One named source of a pipeline with several (``sources: {name: uri}``); ``uri`` is resolved."""

    name: str
    uri: str | int


@dataclass(frozen=True)
class DetectorSpec:
    """A detector of the pipeline: its plugin, parameters and schedule; ``line`` is its YAML key's (1-based)."""

    name: str
    plugin: str
    plugin_class: type
    origin: str
    params: Mapping[str, Any]
    every_n_frames: int | None = 1
    max_fps: float | None = None
    line: int = 0
    #: A second stage names the detector whose result it refines; it runs right after that one,
    #: on the same frames (its own schedule fields are unused).
    input: str | None = None
    #: What an exception of the plugin on one frame does: ``stop`` the run (default) or ``skip``
    #: the frame (its result is empty, the error counted in the summary) and go on.
    on_error: str = "stop"

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {self.on_error!r}")

    def schedule_text(self) -> str:
        if self.input is not None:
            return f"after {self.input}, on its frames"
        return f"every {self.every_n_frames} frame(s)" if self.max_fps is None else f"at most {self.max_fps} fps"


@dataclass(frozen=True)
class TrackerSpec:
    """The tracker of the pipeline and the detector whose boxes it tracks."""

    type: str
    tracker_class: type
    detector: str
    params: Mapping[str, Any]
    line: int = 0


@dataclass(frozen=True)
class SinkSpec:
    """A sink of ``outputs.sinks``: its ``name`` (unique; the summary's key), registered ``type``, class,
    and parameters (paths resolved); ``line`` is its YAML item's (1-based)."""

    name: str
    type: str
    sink_class: type
    origin: str
    params: Mapping[str, Any]
    line: int = 0


@dataclass(frozen=True)
class OutputSpec:
    """Where records go (``-``: stdout), whether to append, the opted-in per-frame records, and the sinks
    that get every record too."""

    events: str = "-"
    append: bool = False
    records: tuple[str, ...] = ()
    sinks: tuple[SinkSpec, ...] = ()


@dataclass(frozen=True)
class RuntimeSpec:
    """How the runtime schedules: mode, frames held in the shared store, pacing of files."""

    mode: str = "auto"
    frame_buffer: int = 16
    pace: bool = True


@dataclass(frozen=True)
class PipelineConfig:
    """A validated, resolved pipeline."""

    path: Path
    name: str
    source: SourceSpec
    detectors: tuple[DetectorSpec, ...]
    tracker: TrackerSpec | None = None
    relations: RelationsSpec | None = None
    #: The tracker of the relation objects (``relations.objects.tracker``), resolved.
    object_tracker: TrackerSpec | None = None
    outputs: OutputSpec = OutputSpec()
    runtime: RuntimeSpec = RuntimeSpec()
    #: Named streams (``sources:``), run together in one process; empty for a single ``source``.
    sources: tuple[StreamSource, ...] = ()

    @property
    def tracked_detectors(self) -> frozenset[str]:
        """Detectors whose boxes a tracker follows (the hands' and the relation objects')."""
        return frozenset(spec.detector for spec in (self.tracker, self.object_tracker) if spec is not None)

    def detector(self, name: str) -> DetectorSpec:
        """The detector spec named ``name``; raises KeyError."""
        for spec in self.detectors:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The resolved pipeline, as ``validate`` prints it."""
        detectors: dict[str, Any] = {}
        for d in self.detectors:
            schedule = {"every_n_frames": d.every_n_frames} if d.max_fps is None else {"max_fps": d.max_fps}
            detectors[d.name] = {
                "plugin": d.plugin,
                "origin": d.origin,
                "params": dict(d.params),
                "schedule": schedule,
                **({"on_error": d.on_error} if d.on_error != "stop" else {}),
            }
        out: dict[str, Any] = {
            "version": 1,
            "name": self.name,
            "source": self.source.to_dict(),
            **({"sources": {s.name: s.uri for s in self.sources}} if self.sources else {}),
            "detectors": detectors,
            "tracker": None
            if self.tracker is None
            else {"type": self.tracker.type, "detector": self.tracker.detector, "params": dict(self.tracker.params)},
            "relations": self.relations.to_dict() if self.relations is not None else {},
            "outputs": {
                "events": self.outputs.events,
                "append": self.outputs.append,
                "records": list(self.outputs.records),
                **(
                    {"sinks": [{"name": k.name, "type": k.type, **k.params} for k in self.outputs.sinks]}
                    if self.outputs.sinks
                    else {}
                ),
            },
            "runtime": {
                "mode": self.runtime.mode,
                "frame_buffer": self.runtime.frame_buffer,
                "pace": self.runtime.pace,
            },
        }
        return out
