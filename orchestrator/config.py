"""Pipeline YAML, version 1: load, validate, resolve; every error carries its file and line.

The structure is checked against ``schemas/pipeline.schema.json``; each plugin's parameters
against the plugin's own ``params_schema``; then plugin names, referenced files and
cross-references. All errors are collected, not just the first, and each is reported as
``file:line: field.path: message``.

Environment variables: string paths (``source.uri``, ``outputs.events`` and plugin path
parameters such as a fixture) may contain ``${VAR}`` or ``${VAR:-default}``. Relative paths
are resolved against the directory of the pipeline file.

Example:
    >>> cfg = load_pipeline("pipelines/hands_only.yaml")          # doctest: +SKIP
    >>> [d.name for d in cfg.detectors]                            # doctest: +SKIP
    ['hands']
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from detectors.errors import DetectorError
from detectors.params import describe_type, dotted, schema_problems
from orchestrator.errors import ConfigError, ConfigIssue, RegistryError, UserError
from orchestrator.registry import DETECTORS, TRACKERS
from orchestrator.relations import RELATIONS_SCHEMA, RelationsSpec, parse_relations
from trackers.errors import TrackerError

PER_FRAME_RECORDS = ("detections", "tracks")
_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_URL_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True)
class SourceSpec:
    """Where frames come from; ``uri`` is resolved (absolute path, camera index or URL)."""

    uri: str | int | None
    fps: float | None = None
    #: ``(width, height)`` every frame is resized to, or None for the source's own size.
    resize: tuple[int, int] | None = None


@dataclass(frozen=True)
class DetectorSpec:
    """A detector of the pipeline: its plugin, parameters and schedule."""

    name: str
    plugin: str
    plugin_class: type
    origin: str
    params: Mapping[str, Any]
    every_n_frames: int | None = 1
    max_fps: float | None = None
    line: int = 0

    def schedule_text(self) -> str:
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
class OutputSpec:
    events: str = "-"
    append: bool = False
    records: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuntimeSpec:
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

    @property
    def tracked_detectors(self) -> frozenset[str]:
        """Detectors whose boxes a tracker follows (the hands' and the relation objects')."""
        return frozenset(spec.detector for spec in (self.tracker, self.object_tracker) if spec is not None)

    def detector(self, name: str) -> DetectorSpec:
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
            }
        out: dict[str, Any] = {
            "version": 1,
            "name": self.name,
            "source": {
                "uri": self.source.uri,
                **({"fps": self.source.fps} if self.source.fps else {}),
                **({"resize": list(self.source.resize)} if self.source.resize else {}),
            },
            "detectors": detectors,
            "tracker": None
            if self.tracker is None
            else {"type": self.tracker.type, "detector": self.tracker.detector, "params": dict(self.tracker.params)},
            "relations": self.relations.to_dict() if self.relations is not None else {},
            "outputs": {
                "events": self.outputs.events,
                "append": self.outputs.append,
                "records": list(self.outputs.records),
            },
            "runtime": {
                "mode": self.runtime.mode,
                "frame_buffer": self.runtime.frame_buffer,
                "pace": self.runtime.pace,
            },
        }
        return out


@cache
def pipeline_schema() -> dict[str, Any]:
    """The JSON Schema of pipeline files (``orchestrator/schemas/pipeline.schema.json``)."""
    text = resources.files("orchestrator").joinpath("schemas/pipeline.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


# ---------------------------------------------------------------------------- YAML with lines
class _LineMap:
    """Maps a field path to the 1-based line of its value (and of its key, for unknown keys)."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.value_lines: dict[tuple[Any, ...], int] = {}
        self.key_lines: dict[tuple[Any, ...], int] = {}
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.value_lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                with contextlib.suppress(yaml.YAMLError):
                    key = yaml.safe_load(yaml.serialize(key_node))  # int keys stay ints, as safe_load gives them
                self.key_lines[(*path, key)] = key_node.start_mark.line + 1
                self._walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def line(self, path: tuple[Any, ...], key: bool = False) -> int:
        if key and path in self.key_lines:
            return self.key_lines[path]
        while path not in self.value_lines and path:
            path = path[:-1]
        return self.value_lines.get(path, 1)


def _schema_issues(
    instance: Any, schema: Mapping[str, Any], prefix: tuple[Any, ...], lines: _LineMap, file: str
) -> list[ConfigIssue]:
    """Validate ``instance`` and turn each problem into a one-line issue at its YAML line."""
    return [
        ConfigIssue(file, lines.line((*prefix, *p.line_path), key=True), dotted((*prefix, *p.path)), p.message)
        for p in schema_problems(instance, schema)
    ]


# ---------------------------------------------------------------------------- resolution helpers
def expand_env(value: str) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``; raises KeyError(VAR) if unset without default."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise KeyError(name)

    return _ENV_PATTERN.sub(replace, value)


def resolve_source_uri(uri: str | int, base: Path) -> str | int:
    """A camera index stays an int, a URL stays as is, a path becomes absolute (against ``base``)."""
    if isinstance(uri, int):
        return uri
    text = uri.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    if _URL_PATTERN.match(text):
        return text
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


class _Loader:
    """Accumulates issues while resolving one pipeline file."""

    def __init__(self, path: Path, lines: _LineMap) -> None:
        self.file = str(path)
        self.base = path.resolve().parent
        self.lines = lines
        self.issues: list[ConfigIssue] = []

    def error(self, path: tuple[Any, ...], message: str, key: bool = False) -> None:
        self.issues.append(ConfigIssue(self.file, self.lines.line(path, key=key), dotted(path), message))

    def expand(self, path: tuple[Any, ...], value: str) -> str | None:
        try:
            return expand_env(value)
        except KeyError as exc:
            self.error(path, f"environment variable {exc.args[0]} is not set (use ${{{exc.args[0]}:-default}})")
            return None

    def file_param(self, path: tuple[Any, ...], value: str) -> str | None:
        expanded = self.expand(path, value)
        if expanded is None:
            return None
        resolved = Path(expanded).expanduser()
        resolved = resolved if resolved.is_absolute() else (self.base / resolved).resolve()
        if not resolved.exists():
            self.error(path, f"file not found: {resolved}")
            return None
        return str(resolved)


def _resolve_plugin(loader: _Loader, registry: Any, name: str, path: tuple[Any, ...]) -> Any:
    try:
        return registry.get(name)
    except RegistryError as exc:
        loader.error(path, str(exc))
        return None


def _validated_params(
    loader: _Loader, plugin_cls: type, params: Mapping[str, Any], path: tuple[Any, ...]
) -> dict[str, Any] | None:
    schema = getattr(plugin_cls, "params_schema", None) or {"type": "object"}
    issues = _schema_issues(dict(params), schema, path, loader.lines, loader.file)
    loader.issues.extend(issues)
    if issues:
        return None
    resolved = dict(params)
    for name in getattr(plugin_cls, "path_params", ()):
        if isinstance(resolved.get(name), str):
            value = loader.file_param((*path, name), resolved[name])
            if value is None:
                return None
            resolved[name] = value
    return resolved


def _object_labels(relations_raw: Mapping[str, Any], detectors: list[DetectorSpec]) -> list[str] | None:
    """The labels the relations' object detector can give: its ``classes`` filter, else all its labels."""
    name = (relations_raw.get("objects") or {}).get("detector")
    for spec in detectors:
        if spec.name == name:
            classes = spec.params.get("classes")
            labels = list(classes) if classes else list(getattr(spec.plugin_class, "labels", ()))
            return labels or None
    return None


def _object_tracker(loader: _Loader, relations: RelationsSpec) -> TrackerSpec | None:
    path = ("relations", "objects", "tracker")
    entry = _resolve_plugin(loader, TRACKERS, relations.objects.tracker.type, (*path, "type"))
    if entry is None:
        return None
    params = _validated_params(loader, entry.obj, dict(relations.objects.tracker.params), (*path, "params"))
    if params is None:
        return None
    return TrackerSpec(
        relations.objects.tracker.type, entry.obj, relations.objects.detector, params, loader.lines.line(path)
    )


def parse_pipeline(text: str, path: Path) -> PipelineConfig:
    """Validate and resolve pipeline ``text`` read from ``path``; raises `ConfigError`."""
    file = str(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        if mark is not None and context is not None and mark.index >= len(text.rstrip()):
            mark = context  # an unclosed bracket or quote: its opening line, not the end of the file
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([ConfigIssue(file, line, "", f"invalid YAML: {problem}")]) from exc
    lines = _LineMap(root)
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigIssue(file, lines.line(()), "", f"expected a mapping at the top level, got {describe_type(data)}")]
        )

    loader = _Loader(path, lines)
    loader.issues.extend(_schema_issues(data, pipeline_schema(), (), lines, file))
    for name in data["detectors"] if isinstance(data.get("detectors"), dict) else ():
        if not isinstance(name, str):  # `1:` is an int key, which the schema's name pattern does not check
            line = lines.line(("detectors", name), key=True)
            loader.issues.append(ConfigIssue(file, line, "detectors", f"name {name!r} must be a string; quote it"))
    if loader.issues:
        # Structure is wrong: resolving further would only repeat the same problems.
        raise ConfigError(loader.issues)

    # ---- source
    source_raw = data.get("source") or {}
    uri: str | int | None = None
    if "uri" in source_raw:
        raw = source_raw["uri"]
        expanded = loader.expand(("source", "uri"), raw) if isinstance(raw, str) else raw
        if expanded is not None:
            uri = resolve_source_uri(expanded, loader.base)
            if isinstance(uri, str) and not _URL_PATTERN.match(uri) and not Path(uri).exists():
                loader.error(("source", "uri"), f"no such file or folder: {uri}")
    resize = source_raw.get("resize")
    source = SourceSpec(uri=uri, fps=source_raw.get("fps"), resize=tuple(resize) if resize else None)

    # ---- detectors
    detectors: list[DetectorSpec] = []
    for name, raw in data["detectors"].items():
        base = ("detectors", name)
        entry = _resolve_plugin(loader, DETECTORS, raw["plugin"], (*base, "plugin"))
        if entry is None:
            continue
        params = _validated_params(loader, entry.obj, raw.get("params") or {}, (*base, "params"))
        if params is None:
            continue
        schedule = raw.get("schedule") or {"every_n_frames": 1}
        detectors.append(
            DetectorSpec(
                name=name,
                plugin=raw["plugin"],
                plugin_class=entry.obj,
                origin=entry.origin,
                params=params,
                every_n_frames=schedule.get("every_n_frames"),
                max_fps=schedule.get("max_fps"),
                line=lines.line(base, key=True),
            )
        )

    # ---- tracker
    tracker: TrackerSpec | None = None
    tracker_raw = data.get("tracker")
    if tracker_raw:
        entry = _resolve_plugin(loader, TRACKERS, tracker_raw["type"], ("tracker", "type"))
        if tracker_raw["detector"] not in data["detectors"]:
            loader.error(
                ("tracker", "detector"),
                f"unknown detector {tracker_raw['detector']!r}; the pipeline's detectors: "
                + ", ".join(data["detectors"]),
            )
        elif entry is not None:
            params = _validated_params(loader, entry.obj, tracker_raw.get("params") or {}, ("tracker", "params"))
            if params is not None:
                tracker = TrackerSpec(
                    tracker_raw["type"], entry.obj, tracker_raw["detector"], params, lines.line(("tracker",), key=True)
                )

    # ---- outputs
    outputs_raw = data.get("outputs") or {}
    events = outputs_raw.get("events", "-")
    if events != "-":
        expanded = loader.expand(("outputs", "events"), events)
        if expanded is not None:
            target = Path(expanded).expanduser()
            target = target if target.is_absolute() else (loader.base / target).resolve()
            if not target.parent.is_dir():
                loader.error(("outputs", "events"), f"folder does not exist: {target.parent}")
            events = str(target)
    outputs = OutputSpec(
        events=events,
        append=bool(outputs_raw.get("append", False)),
        records=tuple(outputs_raw.get("records", ())),
    )
    if "tracks" in outputs.records and tracker_raw is None:
        loader.error(("outputs", "records"), "'tracks' records need a tracker: section")

    runtime_raw = data.get("runtime") or {}
    runtime = RuntimeSpec(
        mode=runtime_raw.get("mode", "auto"),
        frame_buffer=runtime_raw.get("frame_buffer", 16),
        pace=runtime_raw.get("pace", True),
    )

    relations: RelationsSpec | None = None
    object_tracker: TrackerSpec | None = None
    relations_raw = data.get("relations") or {}
    if relations_raw:
        structure = _schema_issues(relations_raw, RELATIONS_SCHEMA, ("relations",), lines, file)
        loader.issues.extend(structure)
        if not structure:
            relations, semantic = parse_relations(
                relations_raw, list(data["detectors"]), _object_labels(relations_raw, detectors)
            )
            for path, message in semantic:
                loader.error(tuple(path), message)
        if relations is not None:
            if tracker_raw is None:
                loader.error(("relations",), "relations need a tracker: section for the hands", key=True)
            object_tracker = _object_tracker(loader, relations)

    if loader.issues:
        raise ConfigError(loader.issues)
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
    """Read, validate and resolve a pipeline file; raises `ConfigError` (a `UserError`)."""
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


def instantiate(config: PipelineConfig) -> list[tuple[DetectorSpec, Any]]:
    """Construct each detector plugin (cheap: no weights yet); constructor errors get the YAML line.

    Returns ``(spec, detector)`` pairs in pipeline order; raises `ConfigError` listing every constructor failure.
    """
    built: list[tuple[DetectorSpec, Any]] = []
    issues: list[ConfigIssue] = []
    for spec in config.detectors:
        try:
            built.append((spec, spec.plugin_class(**spec.params)))
        except (TypeError, ValueError, UserError, DetectorError, TrackerError, OSError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            issues.append(ConfigIssue(str(config.path), spec.line, f"detectors.{spec.name}.params", message))
    if issues:
        for _, detector in built:
            detector.close()
        raise ConfigError(issues)
    return built
