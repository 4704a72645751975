"""Event records, their JSON Schema, and the sinks that write them.

Every record is one JSON object on one line with at least::

    {"schema": "orchestrator.events/4", "seq": 0, "type": "...", "frame": 0, "time": 0.0, ...}

``seq`` counts records of one run from 0; ``frame`` and ``time`` are the source frame index
and source time in seconds the record is about. The first record is the stream's header
(`StreamStartRecord`), the last the `SummaryRecord`. Record types are frozen dataclasses here;
`RecordStream` stamps them with ``schema`` and ``seq``, and the records about one frame of an
image folder with ``file``, the image's name. Serialisation is canonical (fixed key
order, compact separators, rounded floats), so a deterministic run is byte-for-byte stable.

Example:
    >>> stream = RecordStream()
    >>> stream.stamp(DetectionsRecord(frame=0, time=0.0, detector="hands", detections=Detections.empty()))
    {'schema': 'orchestrator.events/4', 'seq': 0, 'type': 'detections', 'frame': 0, 'time': 0.0, ...}
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, ClassVar

from detectors.detections import Detections
from detectors.detector import Provenance
from orchestrator.errors import PipelineError, SinkClosed, UserError
from trackers.track import Track

SCHEMA_ID = "orchestrator.events/4"


@dataclass(frozen=True)
class Record:
    """Base of every record: the frame it is about and that frame's source time."""

    type: ClassVar[str] = ""
    #: A record about one frame of the source (not the stream's header or summary): it carries
    #: ``file`` when that frame is an image of a folder.
    per_frame: ClassVar[bool] = True
    frame: int
    time: float

    def payload(self) -> dict[str, Any]:
        """Type-specific fields, JSON-ready."""
        return {}


@dataclass(frozen=True)
class StreamDetector:
    """One detector in the stream's header: its plugin and what it runs (`Provenance`)."""

    plugin: str
    provenance: Provenance = field(default_factory=Provenance)

    def to_json(self) -> dict[str, Any]:
        return {"plugin": self.plugin, **self.provenance.to_json()}


@dataclass(frozen=True)
class StreamStartRecord(Record):
    """The stream's header: the first record (``seq`` 0) of every run whose source opened.

    ``frame``/``time`` are the first frame's (0 and 0.0 when no frame came). ``width``/``height``
    are the first frame's size in pixels as the detectors saw it (after ``source.resize``): the
    pixels of every box (None when no frame came; frames of a folder or of your own may differ
    in size). ``source`` is `Source.name <orchestrator.sources.Source.name>` and ``source_kind``
    its kind; ``fps`` the rate the run uses for the source, ``fps_stated`` the one its container
    states (None when none); the measured rate is in the summary (``source_fps_measured``), as
    it needs the frames read. ``frame_count``: the frames the source has when known before
    reading (a video's stated count, a folder's images, a list's length), else None.
    ``pipeline_sha256``: `orchestrator.provenance.pipeline_digest`, the same on every machine.
    ``records``: the opt-in per-frame record types the stream has; ``relations``: the relation
    names the pipeline reports (a stream of a relations pipeline without any relation record had
    no relation, rather than none asked). ``version``: this package's version.

    Example:
        >>> header = StreamStartRecord(frame=0, time=0.0, pipeline="p", pipeline_sha256="ab", source="clip.mp4",
        ...     source_kind="video", width=640, height=480, fps=30.0, fps_stated=30.0, frame_count=90,
        ...     mode="deterministic", detectors={"hands": StreamDetector("testing.noop")}, version="0.1.0")
        >>> payload = header.payload()
        >>> payload["source"], payload["width"], payload["detectors"]["hands"]["model"]
        ({'name': 'clip.mp4', 'kind': 'video', 'fps': 30.0, 'fps_stated': 30.0, 'frame_count': 90}, 640, None)
    """

    type: ClassVar[str] = "stream.start"
    per_frame: ClassVar[bool] = False
    pipeline: str = ""
    pipeline_sha256: str = ""
    source: str = ""
    source_kind: str = ""
    width: int | None = None
    height: int | None = None
    fps: float = 0.0
    fps_stated: float | None = None
    frame_count: int | None = None
    mode: str = ""
    records: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    detectors: Mapping[str, StreamDetector] = field(default_factory=dict)
    version: str = ""

    def payload(self) -> dict[str, Any]:
        return {
            "pipeline": {"name": self.pipeline, "sha256": self.pipeline_sha256},
            "source": {
                "name": self.source,
                "kind": self.source_kind,
                "fps": round(float(self.fps), 6),
                "fps_stated": _round(self.fps_stated, 6),
                "frame_count": self.frame_count,
            },
            "width": self.width,
            "height": self.height,
            "mode": self.mode,
            "records": list(self.records),
            "relations": list(self.relations),
            "detectors": {name: detector.to_json() for name, detector in self.detectors.items()},
            "version": self.version,
        }


@dataclass(frozen=True)
class DetectionsRecord(Record):
    """What one detector found on one frame (opt-in: ``outputs.records: [detections]``).

    Each detection carries ``side``/``side_score`` when its side is known. With ``keypoints``
    (``outputs.records: [..., keypoints]``) and a detector that gives keypoints, each detection also
    carries ``keypoints`` (``K`` triples ``[x, y, v]``) and the record names them once, in
    ``keypoint_names``, before the list.

    Example:
        >>> dets = Detections.from_lists([[0, 0, 8, 8]], [0.9], [0], ["hand"], keypoints=[[[1, 2, 0]]],
        ...                              keypoint_names=["wrist"], sides=["left"], side_scores=[0.9])
        >>> payload = DetectionsRecord(0, 0.0, "hands", dets, keypoints=True).payload()
        >>> payload["keypoint_names"], payload["detections"][0]["side"], payload["detections"][0]["keypoints"]
        (['wrist'], 'left', [[1.0, 2.0, 0.0]])
        >>> list(DetectionsRecord(0, 0.0, "hands", dets).payload()["detections"][0])   # keypoints not asked
        ['box', 'score', 'class_id', 'label', 'side', 'side_score']
    """

    type: ClassVar[str] = "detections"
    detector: str = ""
    detections: Detections = field(default_factory=Detections.empty)
    keypoints: bool = False

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"detector": self.detector}
        with_keypoints = self.keypoints and self.detections.keypoints is not None
        if with_keypoints:
            out["keypoint_names"] = list(self.detections.keypoint_names)
        out["detections"] = self.detections.to_records(keypoints=with_keypoints)
        return out


@dataclass(frozen=True)
class TracksRecord(Record):
    """The tracker's view of one frame: every reported track, observed or predicted (opt-in).

    Each track carries ``side``/``side_score`` when known. With ``keypoints``, each track that has
    keypoints carries ``keypoints`` and ``keypoints_source`` (``observed`` / ``predicted``), and the
    record names them once in ``keypoint_names`` (raises `ValueError` if tracks name them differently).
    """

    type: ClassVar[str] = "tracks"
    tracker: str = ""
    detector: str = ""
    tracks: tuple[Track, ...] = ()
    keypoints: bool = False

    def __post_init__(self) -> None:
        if self.keypoints and len({t.keypoint_names for t in self.tracks if t.keypoints is not None}) > 1:
            raise ValueError("tracks of one tracks record must name their keypoints alike")

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tracker": self.tracker, "detector": self.detector}
        if self.keypoints:
            names = next((t.keypoint_names for t in self.tracks if t.keypoints is not None), None)
            if names is not None:
                out["keypoint_names"] = list(names)
        out["tracks"] = [track.to_record(keypoints=self.keypoints) for track in self.tracks]
        return out


@dataclass(frozen=True)
class DetectorStats:
    """Per-detector figures of a run.

    ``errors``: frames on which a detector with ``on_error: skip`` raised (its result there is
    empty), and ``first_error`` the first of those messages. ``boxes_dropped``: boxes it returned
    wholly outside the frame (dropped; the others are clipped to the frame).
    """

    plugin: str
    runs: int
    drops: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    errors: int = 0
    first_error: str | None = None
    boxes_dropped: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "plugin": self.plugin,
            "runs": self.runs,
            "drops": self.drops,
            "errors": self.errors,
            "boxes_dropped": self.boxes_dropped,
            **({"first_error": self.first_error} if self.first_error is not None else {}),
            "latency_ms": {"p50": _round(self.latency_p50_ms, 3), "p95": _round(self.latency_p95_ms, 3)},
        }


#: How a run ended (``summary`` ``status``). ``completed``: the whole source was read (or
#: ``--max-frames``); ``truncated``: the source ended before its stated length or skipped damaged
#: frames; ``source_lost``: a live source went away and did not come back; ``interrupted``: Ctrl-C,
#: SIGTERM or a stop; ``error``: a detector, the source or an output failed.
SUMMARY_STATUSES: tuple[str, ...] = ("completed", "truncated", "source_lost", "interrupted", "error")


@dataclass(frozen=True)
class SummaryRecord(Record):
    """The last record of every run, also after an error or an interruption.

    ``frames_skipped``: frames the source could not decode and skipped (``skipped_files``: the first
    names of skipped image files); ``frames_expected``: the frame count a video's container states
    (None when it states none, and for other sources); ``stalls``/``reconnects``: of a live source;
    ``abandoned``: threads a stop left still busy, ``{"thread": "detector:NAME" | "reader" |
    "source-open", "frame": N}``; ``source_fps_measured``: the source's frames per second of
    source time, first to last frame read (None before two frames).

    Example:
        >>> SummaryRecord(frame=-1, time=0.0, status="done")
        Traceback (most recent call last):
        ValueError: status must be one of completed, truncated, source_lost, interrupted, error, got 'done'
    """

    type: ClassVar[str] = "summary"
    per_frame: ClassVar[bool] = False
    status: str = "completed"
    error: str | None = None
    pipeline: str = ""
    source: str = ""
    mode: str = ""
    frames_read: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    frames_skipped: int = 0
    frames_expected: int | None = None
    skipped_files: tuple[str, ...] = ()
    stalls: int = 0
    reconnects: int = 0
    abandoned: tuple[Mapping[str, Any], ...] = ()
    detectors: Mapping[str, DetectorStats] = field(default_factory=dict)
    fps: float = 0.0
    wall_time_s: float = 0.0
    source_fps_measured: float | None = None

    def __post_init__(self) -> None:
        if self.status not in SUMMARY_STATUSES:
            raise ValueError(f"status must be one of {', '.join(SUMMARY_STATUSES)}, got {self.status!r}")

    def payload(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "error": self.error,
            "pipeline": self.pipeline,
            "source": self.source,
            "mode": self.mode,
            "frames": {
                "read": self.frames_read,
                "processed": self.frames_processed,
                "dropped": self.frames_dropped,
                "skipped": self.frames_skipped,
                "expected": self.frames_expected,
            },
            "skipped_files": [str(name) for name in self.skipped_files],
            "stalls": self.stalls,
            "reconnects": self.reconnects,
            "abandoned": [dict(entry) for entry in self.abandoned],
            "detectors": {name: stats.to_json() for name, stats in self.detectors.items()},
            "source_fps_measured": _round(self.source_fps_measured, 3),
            "fps": round(self.fps, 3),
            "wall_time_s": round(self.wall_time_s, 3),
        }


#: Why a relation ended (``relation.end`` ``reason``).
RELATION_END_REASONS: tuple[str, ...] = ("released", "hand_lost", "object_lost", "end_of_stream")


def _box(box: tuple[float, ...]) -> list[float]:
    # 0.01 px, as `Track.to_record` rounds boxes: stable output whatever the arithmetic.
    return [round(float(v), 2) for v in box]


@dataclass(frozen=True)
class RelationStartRecord(Record):
    """A hand-object relation started (``orchestrator.relations``).

    ``frame``/``time`` are the onset: the first frame of the run of frames on which the
    predicate held; ``confirmed_frame``/``confirmed_time`` the frame on which that run became
    long enough (``enter_frames``/``enter_seconds``) and the record was emitted. ``score`` and
    the boxes are those of the onset frame.
    """

    type: ClassVar[str] = "relation.start"
    relation_id: int
    relation: str
    hand_id: int
    object_id: int
    object_label: str
    score: float
    hand_box: tuple[float, float, float, float]
    object_box: tuple[float, float, float, float]
    confirmed_frame: int
    confirmed_time: float

    def payload(self) -> dict[str, Any]:
        return {
            "relation_id": self.relation_id,
            "relation": self.relation,
            "hand_id": self.hand_id,
            "object_id": self.object_id,
            "object_label": self.object_label,
            "score": round(float(self.score), 4),
            "hand_box": _box(self.hand_box),
            "object_box": _box(self.object_box),
            "confirmed_frame": self.confirmed_frame,
            "confirmed_time": round(float(self.confirmed_time), 6),
        }


@dataclass(frozen=True)
class RelationEndRecord(Record):
    """A hand-object relation ended.

    ``frame``/``time`` are the last frame on which the predicate held; ``ended_frame``/
    ``ended_time`` the frame on which the end was decided (and the record emitted).
    ``duration_frames`` counts source frames from the onset to the last held frame, both
    included; ``duration_s`` is the same span in source time plus one frame period (one held
    frame lasts 1/fps), so 90 frames at 30 fps last 3.0 s. ``mean_score``/``max_score`` are over
    the frames on which the predicate held. ``carried_frames`` (written only when not 0): frames of
    the relation on which its object was carried in the hand, unseen (``max_carried_frames``); they
    count in the duration, not in the scores.
    """

    type: ClassVar[str] = "relation.end"
    relation_id: int
    relation: str
    hand_id: int
    object_id: int
    object_label: str
    reason: str
    duration_frames: int
    duration_s: float
    mean_score: float
    max_score: float
    ended_frame: int
    ended_time: float
    carried_frames: int = 0

    def __post_init__(self) -> None:
        if self.reason not in RELATION_END_REASONS:
            raise ValueError(f"reason must be one of {', '.join(RELATION_END_REASONS)}, got {self.reason!r}")

    def payload(self) -> dict[str, Any]:
        return {
            "relation_id": self.relation_id,
            "relation": self.relation,
            "hand_id": self.hand_id,
            "object_id": self.object_id,
            "object_label": self.object_label,
            "reason": self.reason,
            "duration_frames": self.duration_frames,
            "duration_s": round(float(self.duration_s), 6),
            "mean_score": round(float(self.mean_score), 4),
            "max_score": round(float(self.max_score), 4),
            "ended_frame": self.ended_frame,
            "ended_time": round(float(self.ended_time), 6),
            **({"carried_frames": self.carried_frames} if self.carried_frames else {}),
        }


@dataclass(frozen=True)
class RelationUpdateRecord(Record):
    """An active relation's state on this frame (every ``update_every_frames`` frames).

    ``holds`` is false while the relation is in its exit window (the predicate failed on this
    frame, but not yet for long enough to end it).
    """

    type: ClassVar[str] = "relation.update"
    relation_id: int
    relation: str
    hand_id: int
    object_id: int
    object_label: str
    holds: bool
    score: float
    hand_box: tuple[float, float, float, float]
    object_box: tuple[float, float, float, float]

    def payload(self) -> dict[str, Any]:
        return {
            "relation_id": self.relation_id,
            "relation": self.relation,
            "hand_id": self.hand_id,
            "object_id": self.object_id,
            "object_label": self.object_label,
            "holds": self.holds,
            "score": round(float(self.score), 4),
            "hand_box": _box(self.hand_box),
            "object_box": _box(self.object_box),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


class RecordStream:
    """Stamps records with ``schema`` and a monotonic ``seq``, starting at 0 for each run.

    ``file_of`` (frame index → image file name or None; an image folder's
    `orchestrator.sources.Source.file_name`) adds ``file`` after ``time`` to the records about
    one frame (`Record.per_frame`) whose frame has a file.

    Example:
        >>> stream = RecordStream(file_of={3: "img_0003.jpg"}.get)
        >>> stream.stamp(TracksRecord(frame=3, time=0.1, tracker="sort", detector="hands"))["file"]
        'img_0003.jpg'
    """

    def __init__(self, file_of: Callable[[int], str | None] | None = None) -> None:
        self._seq = 0
        self._file_of = file_of

    def stamp(self, record: Record) -> dict[str, Any]:
        out = {"schema": SCHEMA_ID, "seq": self._seq, "type": record.type, "frame": record.frame}
        out["time"] = round(float(record.time), 6)
        if self._file_of is not None and record.per_frame:
            name = self._file_of(record.frame)
            if name is not None:
                out["file"] = name
        out.update(record.payload())
        self._seq += 1
        return out


def dumps(record: Mapping[str, Any]) -> str:
    """One record as one canonical JSON line (with the newline)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


@cache
def events_schema() -> dict[str, Any]:
    """The JSON Schema of every record type (``orchestrator/schemas/events.schema.json``)."""
    text = resources.files("orchestrator").joinpath("schemas/events.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


class JsonlSink:
    """Writes records as JSON Lines to a file or stdout (``-``); each record in one write, flushed.

    A reader tailing the file never sees half a record, and a crash leaves only complete lines.
    The file is opened at the first record, not before: a run that fails to start (a mistyped
    source, a detector that does not load) leaves an existing file as it was. With ``append`` it
    is appended to, never truncated. A write error (a full disk, ``/dev/full``) raises
    `PipelineError` in one line, after cutting a regular file back to its last complete record;
    a device or a pipe is written as it is.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.jsonl"
        >>> sink = JsonlSink(str(path))
        >>> path.exists()                       # nothing opened yet
        False
        >>> sink.write({"type": "summary"}); sink.close(); path.read_text()
        '{"type":"summary"}\\n'
    """

    def __init__(self, target: str, append: bool = False) -> None:
        self.target = target
        self.append = append
        self._owned = target != "-"
        self._fd: int | None = None
        self._regular = False
        #: Bytes of the record being written (0 between records): at most this much can be half-written.
        self._in_flight = 0
        self.written = 0

    def open(self) -> None:
        """Open (create, truncate unless appending) the file now; `write` does it at the first record."""
        if not self._owned or self._fd is not None:
            return
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if self.append else os.O_TRUNC)
        try:
            self._fd = os.open(self.target, flags, 0o666)
        except OSError as exc:
            raise UserError(f"{self.target}: cannot open events file for writing: {exc.strerror or exc}") from exc
        self._regular = stat.S_ISREG(os.fstat(self._fd).st_mode)

    def write(self, record: Mapping[str, Any]) -> None:
        line = dumps(record)
        if not self._owned:
            try:
                sys.stdout.write(line)
                sys.stdout.flush()
            except BrokenPipeError as exc:
                raise SinkClosed("stdout: the reader closed the pipe") from exc
            except OSError as exc:
                raise PipelineError(
                    f"stdout: cannot write events: {exc.strerror or exc} ({self.written} records written)"
                ) from exc
            self.written += 1
            return
        self.open()
        assert self._fd is not None
        data = line.encode("utf-8")
        self._in_flight = len(data)
        try:
            view = memoryview(data)
            while view:  # one write() in practice; a short write goes on where it stopped
                view = view[os.write(self._fd, view) :]
        except BrokenPipeError as exc:
            raise SinkClosed(f"{self.target}: the reader closed the pipe") from exc
        except OSError as exc:
            cut = self.cut_to_last_record(len(data))
            raise PipelineError(
                f"{self.target}: cannot write events: {exc.strerror or exc}; {self.written} records written{cut}"
            ) from exc
        self._in_flight = 0
        self.written += 1

    def abandon(self) -> None:
        """For an exit at once (a second Ctrl-C, maybe in the middle of a write): drop a half-written record."""
        if self._in_flight:
            self.cut_to_last_record(self._in_flight)

    def cut_to_last_record(self, partial_max: int) -> str:
        """Cut a regular file back to its last complete line (a record's first ``partial_max`` bytes at most).

        Returns a note for the error message; never raises (it runs while reporting an error, or
        from a signal handler on a second Ctrl-C).
        """
        if self._fd is None or not self._regular:
            return ""
        try:
            size = os.fstat(self._fd).st_size
            if size == 0:
                return "; the file ends at its last complete record"
            with open(self.target, "rb") as reader:
                start = max(0, size - partial_max - 1)
                reader.seek(start)
                tail = reader.read(size - start)
            newline = tail.rfind(b"\n")
            keep = start + newline + 1 if newline >= 0 else start
            if keep < size:
                os.ftruncate(self._fd, keep)
            return "; the file ends at its last complete record"
        except OSError:
            return ""

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


class CallbackSink:
    """Calls ``callback(record)`` for each record (the Python API's push style)."""

    def __init__(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self._callback = callback

    def write(self, record: Mapping[str, Any]) -> None:
        self._callback(dict(record))

    def close(self) -> None:
        pass
