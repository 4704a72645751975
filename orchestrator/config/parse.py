"""Read, validate and resolve a pipeline file in one pass; every error carries its file and line.

The whole file is checked once against `pipeline_schema` (relations included); then every part
the schema accepted is resolved further: plugin names, each plugin's parameters (against its own
``params_schema``), referenced files, ``${VAR}``, and cross-references (the tracker's detector,
the relations' object detector and labels). All problems are collected and raised together as
one `ConfigError`, one ``file:line: field.path: message`` line each.

Example:
    >>> config = parse_pipeline("version: 1\\ndetectors:\\n  hands: {plugin: testing.noop}\\n", Path("p.yaml"))
    >>> [d.name for d in config.detectors], config.outputs.events
    (['hands'], '-')
    >>> parse_pipeline("version: 2\\ndetectors:\\n  hands: {plugin: nope.x}\\n", Path("p.yaml"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    orchestrator.errors.ConfigError: p.yaml:1: version: expected 1, got 2
    p.yaml:3: detectors.hands.plugin: unknown detector plugin 'nope.x'; valid names: ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from detectors.params import describe_type
from orchestrator.config.issues import IssueLog
from orchestrator.config.plugins import (
    check_inputs,
    detector_spec,
    hand_tracker_spec,
    object_labels,
    object_tracker_spec,
    tracker_spec,
)
from orchestrator.config.schema import pipeline_schema
from orchestrator.config.sections import output_spec, runtime_spec, source_spec, sources_spec
from orchestrator.config.sinks import sink_specs
from orchestrator.config.spec import DetectorSpec, PipelineConfig, TrackerSpec
from orchestrator.config.yaml_lines import read_yaml
from orchestrator.errors import ConfigError, ConfigIssue, UserError
from orchestrator.relations import ObjectTrackerSpec, RelationsSpec, parse_relations

#: Stands for a relation's ``when`` (or one of its ``all``/``any`` items) that has problems of its own,
#: so the rest of the relation is still checked; nothing is reported at its path.
_PLACEHOLDER_PREDICATE: dict[str, Any] = {"above": None}


def _sound_items(log: IssueLog, raw: Any, path: tuple[Any, ...]) -> dict[Any, Any]:
    """The keys of mapping ``raw`` (found at ``path``) that the schema accepted; ``{}`` for anything else.

    A part with a problem is left out (its problem is already recorded, so no config comes of
    this file), and the rest is still resolved: one pass reports every problem of the file.
    """
    if not isinstance(raw, Mapping):
        return {}
    return {key: value for key, value in raw.items() if log.sound((*path, key))}


def _string_keys(log: IssueLog, value: Any, path: tuple[Any, ...] = ()) -> None:
    """Refuse every mapping key that is not a string (YAML reads ``1:``, ``null:``, ``true:`` as other types).

    A pipeline file is a JSON document written in YAML: its names (detectors, streams, relations,
    class names) are text, and the schema's name patterns do not check keys of other types.
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                _string_keys(log, item, (*path, key))
            else:
                written = json.dumps(key) if isinstance(key, bool | int | float) or key is None else str(key)
                log.refuse_key((*path, key), f"name {written} must be a string; quote it")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _string_keys(log, item, (*path, index))


def _detector_names(log: IssueLog, data: Mapping[str, Any]) -> list[str] | None:
    """The detector names of the file (strings: `_string_keys` refused the others), None when ``detectors``
    is not a mapping."""
    raw = data.get("detectors")
    if not isinstance(raw, Mapping):
        return None
    return [name for name in raw if isinstance(name, str)]


def _detectors(log: IssueLog, data: Mapping[str, Any], names: list[str] | None) -> list[DetectorSpec]:
    """The specs of the well-formed detectors (the others' problems are already recorded)."""
    specs = []
    for name in names or ():
        base = ("detectors", name)
        entry = _sound_items(log, data["detectors"][name], base)
        # Broken parameters are not left out but skipped: {} would report required ones as missing.
        if isinstance(name, str) and "plugin" in entry and log.sound((*base, "params")):
            spec = detector_spec(log, name, entry)
            if spec is not None:
                specs.append(spec)
    check_inputs(log, specs)
    return specs


def _sound_predicate(log: IssueLog, raw: Any, path: tuple[Any, ...]) -> Any:
    """``raw`` (a ``when`` the schema checked, at ``path``) with each part that has a problem replaced by a
    placeholder, so the parts that are right are still built and checked; items keep their indexes."""
    if log.sound(path):
        return raw
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((name, items),) = raw.items()
        if name in ("all", "any") and isinstance(items, list) and items:
            return {name: [_sound_predicate(log, item, (*path, name, i)) for i, item in enumerate(items)]}
    return _PLACEHOLDER_PREDICATE


def _sound_report(log: IssueLog, raw: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    """The relations of ``report`` that can be built: those with problems keep their parts that are right."""
    report = {}
    for name, entry in raw.items() if isinstance(raw, Mapping) else ():
        base = (*path, name)
        if log.sound(base):
            report[name] = entry
        elif isinstance(entry, Mapping) and log.broken_keys(base) is not None:
            sound = _sound_items(log, entry, base)
            sound["when"] = _sound_predicate(log, entry.get("when"), (*base, "when")) if "when" in entry else None
            if sound["when"] is None:
                sound["when"] = _PLACEHOLDER_PREDICATE
            report[name] = sound
    return report


def _relations(
    log: IssueLog, raw: Any, detector_names: list[str], detectors: list[DetectorSpec], tracked: bool
) -> tuple[RelationsSpec | None, TrackerSpec | None]:
    """The relations spec and its object tracker's, from the relations the schema accepted (None: none).

    Parts with problems are left out or stand in by a placeholder, and the rest is still checked
    (object labels, predicate limits, the object tracker's parameters): one pass reports all.
    """
    root = ("relations",)
    if not isinstance(raw, Mapping):
        return None, None
    objects = _sound_items(log, raw.get("objects"), (*root, "objects"))
    if "detector" not in objects:
        return None, None
    report = _sound_report(log, raw.get("report"), (*root, "report"))
    section = {"objects": objects, "report": report}
    relations, issues = parse_relations(section, detector_names, object_labels(section, detectors))
    for path, message in issues:
        if log.sound(tuple(path)):  # an issue inside a part with a problem is already said (or a placeholder's)
            log.error(tuple(path), message)
    if not tracked:
        log.error(root, "relations need a tracker: section for the hands", key=True)
    if relations is None or not log.sound(root):
        # The object tracker's parameters are still checked in this pass (its default when not given).
        tracker_raw = objects.get("tracker")
        tracker = (
            ObjectTrackerSpec()
            if tracker_raw is None
            else ObjectTrackerSpec(tracker_raw["type"], dict(tracker_raw.get("params") or {}))
        )
        path = (*root, "objects", "tracker")
        if objects["detector"] in detector_names:
            tracker_spec(log, tracker.type, objects["detector"], dict(tracker.params), path, log.lines.line(path))
        return None, None
    return relations, object_tracker_spec(log, relations)


def parse_pipeline(text: str, path: Path) -> PipelineConfig:
    """Validate and resolve pipeline ``text`` read from ``path``.

    Raises:
        ConfigError: every problem of the file, one `ConfigIssue` each (invalid YAML and a
            top level that is not a mapping stop at once: nothing else can be checked).
    """
    file = str(path)
    document = read_yaml(text, file)
    data, lines = document.data, document.lines
    if not isinstance(data, dict):
        message = f"expected a mapping at the top level, got {describe_type(data)}"
        raise ConfigError([*document.issues, ConfigIssue(file, lines.line(()), "", message)])
    log = IssueLog(file, path.resolve().parent, lines, document.skipped)
    log.issues.extend(document.issues)
    log.check(data, pipeline_schema())
    _string_keys(log, data)
    detector_names = _detector_names(log, data)

    source = source_spec(log, _sound_items(log, data.get("source"), ("source",)))
    sources = sources_spec(log, _sound_items(log, data.get("sources"), ("sources",)), source)
    detectors = _detectors(log, data, detector_names)
    tracker_raw = data.get("tracker")
    tracker = None
    tracker_entry = _sound_items(log, tracker_raw, ("tracker",))
    if {"type", "detector"} <= tracker_entry.keys() and detector_names is not None and log.sound(("tracker", "params")):
        tracker = hand_tracker_spec(log, tracker_entry, detector_names)
    outputs_raw = data.get("outputs")
    sinks = sink_specs(log, outputs_raw.get("sinks") if isinstance(outputs_raw, Mapping) else None)
    outputs = output_spec(log, _sound_items(log, outputs_raw, ("outputs",)), tracker_raw is not None, sinks)
    runtime = runtime_spec(_sound_items(log, data.get("runtime"), ("runtime",)))
    relations, object_tracker = None, None
    if data.get("relations") and detector_names is not None:
        relations, object_tracker = _relations(
            log, data["relations"], detector_names, detectors, tracker_raw is not None
        )

    if log.issues:
        # In file order (stable: problems of one line keep the order they were found in).
        raise ConfigError(sorted(log.issues, key=lambda issue: issue.line))
    return PipelineConfig(
        path=path,
        name=data.get("name") or path.stem,
        source=source,
        detectors=tuple(detectors),
        tracker=tracker,
        relations=relations,
        object_tracker=object_tracker,
        outputs=outputs,
        runtime=runtime,
        sources=sources,
    )


def load_pipeline(path: str | Path) -> PipelineConfig:
    """Read, validate and resolve a pipeline file.

    Raises:
        UserError: the file cannot be read (missing, a folder, not UTF-8).
        ConfigError: the file's problems (a `UserError` too), see `parse_pipeline`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UserError(f"{path}: pipeline file not found") from exc
    except IsADirectoryError as exc:
        raise UserError(f"{path}: is a folder, expected a pipeline YAML file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read pipeline file: {exc}") from exc
    return parse_pipeline(text, path)
