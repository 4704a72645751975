"""Resolve the plain sections of a pipeline file: ``source``, ``outputs`` and ``runtime``.

Each function takes its section as the file gives it (well-formed: the schema accepted it),
expands ``${VAR}``, resolves paths against the file's folder, records what is missing in the
`IssueLog`, and returns the frozen spec with defaults filled in.

Example:
    >>> from pathlib import Path
    >>> from orchestrator.config.yaml_lines import LineMap
    >>> log = IssueLog("p.yaml", Path("/data"), LineMap(None))
    >>> spec = source_spec(log, {"uri": "rtsp://cam/1", "resize": [640, 480], "reconnect": {"attempts": 2}})
    >>> spec.uri, spec.resize, spec.timeout_s, spec.reconnect
    ('rtsp://cam/1', (640, 480), 5.0, ReconnectSpec(attempts=2, max_delay_s=8.0))
    >>> runtime_spec({"mode": "realtime"})
    RuntimeSpec(mode='realtime', frame_buffer=16, pace=True)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.config.env import is_url, resolve_path, resolve_source_uri
from orchestrator.config.issues import IssueLog
from orchestrator.config.spec import OutputSpec, ReconnectSpec, RuntimeSpec, SinkSpec, SourceSpec, StreamSource


def source_spec(log: IssueLog, raw: Mapping[str, Any]) -> SourceSpec:
    """The ``source:`` section; a file or folder ``uri`` must exist."""
    uri: str | int | None = None
    if "uri" in raw:
        value = raw["uri"]
        expanded = log.expand(("source", "uri"), value) if isinstance(value, str) else value
        if expanded is not None:
            uri = resolve_source_uri(expanded, log.base)
            if isinstance(uri, str) and not is_url(uri) and not Path(uri).exists():
                log.error(("source", "uri"), f"no such file or folder: {uri}")
    resize = raw.get("resize")
    # The schema has bounded every option, so the specs' own checks cannot fail here.
    reconnect = raw.get("reconnect") if isinstance(raw.get("reconnect"), Mapping) else {}
    return SourceSpec(
        uri=uri,
        fps=raw.get("fps"),
        resize=tuple(resize) if resize else None,
        timeout_s=float(raw.get("timeout_s", SourceSpec.timeout_s)),
        reconnect=ReconnectSpec(
            attempts=reconnect.get("attempts", ReconnectSpec.attempts),
            max_delay_s=float(reconnect.get("max_delay_s", ReconnectSpec.max_delay_s)),
        ),
        on_bad_frame=raw.get("on_bad_frame", SourceSpec.on_bad_frame),
        decode_threads=raw.get("decode_threads", SourceSpec.decode_threads),
    )


def sources_spec(log: IssueLog, raw: Mapping[str, Any], source: SourceSpec) -> tuple[StreamSource, ...]:
    """The ``sources:`` section (named streams); each file or folder must exist, and ``source.uri`` must not
    be given too (the ``source:`` section's other options apply to every stream).

    >>> from orchestrator.config.yaml_lines import LineMap
    >>> log = IssueLog("p.yaml", Path("/data"), LineMap(None))
    >>> sources_spec(log, {"left": 0, "right": "rtsp://cam/2"}, SourceSpec(None))
    (StreamSource(name='left', uri=0), StreamSource(name='right', uri='rtsp://cam/2'))
    """
    streams = []
    for name, value in raw.items():
        path = ("sources", name)  # a name that is not a string was refused with the file (`parse._string_keys`)
        expanded = log.expand(path, value) if isinstance(value, str) else value
        if expanded is None:
            continue
        if isinstance(expanded, str) and not expanded.strip():
            log.error(path, "empty: expected a file, folder, URL or camera index")
            continue
        uri = resolve_source_uri(expanded, log.base)
        if isinstance(uri, str) and not is_url(uri) and not Path(uri).exists():
            log.error(path, f"no such file or folder: {uri}")
        streams.append(StreamSource(str(name), uri))
    if streams and source.uri is not None:
        log.error(("sources",), "give either source.uri (one stream) or sources: (several), not both", key=True)
    return tuple(streams)


def output_spec(
    log: IssueLog, raw: Mapping[str, Any], has_tracker: bool, sinks: tuple[SinkSpec, ...] = ()
) -> OutputSpec:
    """The ``outputs:`` section (``sinks`` resolved by `orchestrator.config.sinks`); an events file's folder
    must exist, ``tracks`` records need a tracker, ``keypoints`` needs records to put them in."""
    events = raw.get("events", "-")
    if events != "-":
        expanded = log.expand(("outputs", "events"), events)
        if expanded is not None:
            target = resolve_path(expanded, log.base)
            if not target.parent.is_dir():
                log.error(("outputs", "events"), f"folder does not exist: {target.parent}")
            events = str(target)
    append = bool(raw.get("append", False))
    outputs = OutputSpec(events=events, append=append, records=tuple(raw.get("records", ())), sinks=sinks)
    if "tracks" in outputs.records and not has_tracker:
        log.error(("outputs", "records"), "'tracks' records need a tracker: section")
    if "keypoints" in outputs.records and not {"detections", "tracks"} & set(outputs.records):
        log.error(("outputs", "records"), "'keypoints' goes into detections or tracks records: add one of them")
    return outputs


def runtime_spec(raw: Mapping[str, Any]) -> RuntimeSpec:
    """The ``runtime:`` section, defaults filled in."""
    return RuntimeSpec(
        mode=raw.get("mode", "auto"), frame_buffer=raw.get("frame_buffer", 16), pace=raw.get("pace", True)
    )
