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
)
from orchestrator.config.schema import pipeline_schema
from orchestrator.config.sections import output_spec, runtime_spec, source_spec
from orchestrator.config.spec import DetectorSpec, PipelineConfig, TrackerSpec
from orchestrator.config.yaml_lines import load_yaml
from orchestrator.errors import ConfigError, ConfigIssue, UserError
from orchestrator.relations import RelationsSpec, parse_relations


def _sound_items(log: IssueLog, raw: Any, path: tuple[Any, ...]) -> dict[Any, Any]:
    """The keys of mapping ``raw`` (found at ``path``) that the schema accepted; ``{}`` for anything else.

    A part with a problem is left out (its problem is already recorded, so no config comes of
    this file), and the rest is still resolved: one pass reports every problem of the file.
    """
    if not isinstance(raw, Mapping):
        return {}
    return {key: value for key, value in raw.items() if log.sound((*path, key))}


def _detector_names(log: IssueLog, data: Mapping[str, Any]) -> list[str] | None:
    """The detector names of the file, None when ``detectors`` is not a mapping; a name must be a string."""
    raw = data.get("detectors")
    if not isinstance(raw, Mapping):
        return None
    for name in raw:
        if not isinstance(name, str):  # `1:` is an int key, which the schema's name pattern does not check
            line = log.lines.line(("detectors", name), key=True)
            log.issues.append(ConfigIssue(log.file, line, "detectors", f"name {name!r} must be a string; quote it"))
    return list(raw)


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


def _relations(
    log: IssueLog, raw: Any, detector_names: list[str], detectors: list[DetectorSpec], tracked: bool
) -> tuple[RelationsSpec | None, TrackerSpec | None]:
    """The relations spec and its object tracker's, from the relations the schema accepted (None: none)."""
    root = ("relations",)
    if not isinstance(raw, Mapping):
        return None, None
    objects = _sound_items(log, raw, root).get("objects")
    report = _sound_items(log, raw.get("report"), (*root, "report"))
    if not isinstance(objects, Mapping) or not report:
        return None, None
    section = {"objects": objects, "report": report}
    relations, issues = parse_relations(section, detector_names, object_labels(section, detectors))
    for path, message in issues:
        log.error(tuple(path), message)
    if relations is None:
        return None, None
    if not tracked:
        log.error(root, "relations need a tracker: section for the hands", key=True)
    return relations, object_tracker_spec(log, relations)


def parse_pipeline(text: str, path: Path) -> PipelineConfig:
    """Validate and resolve pipeline ``text`` read from ``path``.

    Raises:
        ConfigError: every problem of the file, one `ConfigIssue` each (invalid YAML and a
            top level that is not a mapping stop at once: nothing else can be checked).
    """
    file = str(path)
    data, lines = load_yaml(text, file)
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigIssue(file, lines.line(()), "", f"expected a mapping at the top level, got {describe_type(data)}")]
        )
    log = IssueLog(file, path.resolve().parent, lines)
    log.check(data, pipeline_schema())
    detector_names = _detector_names(log, data)

    source = source_spec(log, _sound_items(log, data.get("source"), ("source",)))
    detectors = _detectors(log, data, detector_names)
    tracker_raw = data.get("tracker")
    tracker = None
    if tracker_raw and detector_names is not None and log.sound(("tracker",)):
        tracker = hand_tracker_spec(log, tracker_raw, detector_names)
    outputs = output_spec(log, _sound_items(log, data.get("outputs"), ("outputs",)), tracker_raw is not None)
    runtime = runtime_spec(_sound_items(log, data.get("runtime"), ("runtime",)))
    relations, object_tracker = None, None
    if data.get("relations") and detector_names is not None:
        relations, object_tracker = _relations(
            log, data["relations"], detector_names, detectors, tracker_raw is not None
        )

    if log.issues:
        raise ConfigError(log.issues)
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
