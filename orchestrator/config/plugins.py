"""Resolve the plugin sections of a pipeline file: detectors, the hand tracker, the object tracker.

Each plugin name is looked up in the application registry and its parameters are checked
against the plugin's ``params_schema`` with the one check of ``detectors.params`` (through
`IssueLog.check`, so each problem has its YAML line); path parameters are resolved to files
that exist. Each plugin is then constructed (cheap by contract: no weights until ``load``)
with `construct`, so a constructor's own checks (a tracker's ``low_score`` above its
``high_score``, a detector's unknown class) are reported at the plugin's ``params`` line in the
same pass. Problems are recorded in the `IssueLog`; a tracker section that has any resolves to
None (a detector keeps its spec, so the checks that refer to it still run).

Parameters with a problem do not hide the others': the plugin is still constructed with the
parameters that are right (its defaults in place of the wrong ones, unless a wrong one is
required or a file), and a constructor's complaint then names the parameters left out, so one
pass reports both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.config.instantiate import CONSTRUCTOR_ERRORS, construct, constructor_message
from orchestrator.config.issues import IssueLog
from orchestrator.config.spec import DetectorSpec, TrackerSpec
from orchestrator.errors import RegistryError
from orchestrator.modelstore.binding import input_size_problem
from orchestrator.registry import DETECTORS, TRACKERS, Registered, Registry
from orchestrator.relations import RelationsSpec


def _plugin(log: IssueLog, registry: Registry[Any], name: str, path: tuple[Any, ...]) -> Registered[Any] | None:
    try:
        return registry.get(name)
    except RegistryError as exc:
        log.error(path, str(exc))
        return None


class _Params:
    """A plugin's parameters after the checks: the right ones (paths resolved) and the names of the wrong ones."""

    def __init__(self, resolved: dict[str, Any], wrong: set[Any], constructible: bool) -> None:
        self.resolved = resolved
        self.wrong = wrong
        #: Whether the plugin can be constructed from `resolved` (no wrong parameter is required or a file).
        self.constructible = constructible

    @property
    def sound(self) -> bool:
        return not self.wrong


def _params(log: IssueLog, plugin_cls: type, params: Mapping[str, Any], path: tuple[Any, ...]) -> _Params | None:
    """``params`` checked against the plugin's schema, path parameters resolved; None when ``params`` as a whole
    is wrong (a missing required key, not a mapping)."""
    schema = getattr(plugin_cls, "params_schema", None) or {"type": "object"}
    log.check(dict(params), schema, path)
    wrong = log.broken_keys(path)
    if wrong is None:
        return None
    resolved = {name: value for name, value in params.items() if name not in wrong}
    path_params = tuple(getattr(plugin_cls, "path_params", ()))
    for name in path_params:
        if isinstance(resolved.get(name), str):
            value = log.existing_file((*path, name), resolved[name])
            if value is None:
                wrong.add(name)
                del resolved[name]
            else:
                resolved[name] = value
    required = set(schema.get("required", ())) if isinstance(schema, Mapping) else set()
    return _Params(resolved, wrong, constructible=not wrong & (required | set(path_params)))


def _constructs(
    log: IssueLog, owner: str, plugin_cls: type, params: _Params | Mapping[str, Any], path: tuple[Any, ...]
) -> bool:
    """Whether the plugin accepts ``params`` (a constructor error is recorded at ``path``); the plugin is closed.

    With wrong parameters left out, the message names them: the plugin was built with its defaults in their place.
    """
    if isinstance(params, _Params):
        if not params.constructible:
            return False
        wrong, params = params.wrong, params.resolved
    else:
        wrong = set()
    try:
        plugin = construct(owner, plugin_cls, params)
    except CONSTRUCTOR_ERRORS as exc:
        message = constructor_message(exc)
        if wrong:
            names = ", ".join(sorted(map(str, wrong)))
            message += f" (checked without the parameters with problems: {names})"
        log.error(path, message, key=True)
        return False
    close = getattr(plugin, "close", None)
    if callable(close):
        close()
    return True


def detector_spec(log: IssueLog, name: str, raw: Mapping[str, Any]) -> DetectorSpec | None:
    """The spec of detector ``name`` from its well-formed section ``raw``, or None (issues recorded)."""
    base = ("detectors", name)
    entry = _plugin(log, DETECTORS, raw["plugin"], (*base, "plugin"))
    if entry is None:
        return None
    checked = _params(log, entry.obj, raw.get("params") or {}, (*base, "params"))
    if checked is None:
        return None
    params = checked.resolved
    _constructs(log, raw["plugin"], entry.obj, checked, (*base, "params"))
    model_name = getattr(entry.obj, "model_name", "")
    if model_name and isinstance(params.get("input_size"), list) and "runtime" not in checked.wrong:
        # A size the plugin's schema allows but the model store does not build fails only at load: say it now.
        problem = input_size_problem(model_name, params["input_size"], params.get("runtime"))
        if problem:
            log.error((*base, "params", "input_size"), problem, key=True)
    schedule = raw.get("schedule") or {"every_n_frames": 1}
    takes_input = bool(getattr(entry.obj, "takes_input", False))
    if takes_input != ("input" in raw):
        where = (*base, "input") if "input" in raw else base
        log.error(
            where,
            f"plugin {raw['plugin']} is a second stage: give input: <the detector whose boxes it refines>"
            if takes_input
            else f"plugin {raw['plugin']} takes no input (it is not a second stage)",
        )
        return None
    if takes_input and "schedule" in raw:
        log.error((*base, "schedule"), "a second stage runs on its input's frames; it has no schedule of its own")
        return None
    # A spec even with wrong parameters (the file gives no config then): the checks that refer to
    # this detector (a stage's input, the relations' object labels) still run in this pass.
    return DetectorSpec(
        name=name,
        plugin=raw["plugin"],
        plugin_class=entry.obj,
        origin=entry.origin,
        params=params,
        every_n_frames=schedule.get("every_n_frames"),
        max_fps=schedule.get("max_fps"),
        line=log.lines.line(base, key=True),
        input=raw.get("input"),
        on_error=raw.get("on_error", "stop"),
    )


def check_inputs(log: IssueLog, specs: list[DetectorSpec]) -> None:
    """Each second stage's ``input`` names another detector of the pipeline that is not a stage itself."""
    by_name = {spec.name: spec for spec in specs}
    for spec in specs:
        if spec.input is None:
            continue
        target = by_name.get(spec.input)
        path = ("detectors", spec.name, "input")
        if target is None or target is spec:
            others = ", ".join(name for name in by_name if name != spec.name) or "(none)"
            log.error(path, f"unknown detector {spec.input!r}; the other detectors: {others}")
        elif target.input is not None:
            log.error(path, f"{spec.input!r} is a second stage itself; give the detector it refines instead")


def tracker_spec(
    log: IssueLog, kind: str, detector: str, params: Mapping[str, Any], path: tuple[Any, ...], line: int
) -> TrackerSpec | None:
    """The spec of a ``kind`` tracker following ``detector``, its section at ``path``; None when wrong."""
    entry = _plugin(log, TRACKERS, kind, (*path, "type"))
    if entry is None:
        return None
    checked = _params(log, entry.obj, params, (*path, "params"))
    if checked is None or not _constructs(log, f"{kind} tracker", entry.obj, checked, (*path, "params")):
        return None
    if not checked.sound:
        return None
    return TrackerSpec(kind, entry.obj, detector, checked.resolved, line)


def hand_tracker_spec(log: IssueLog, raw: Mapping[str, Any], detector_names: list[str]) -> TrackerSpec | None:
    """The ``tracker:`` section's spec; its detector must be one of ``detector_names``."""
    line = log.lines.line(("tracker",), key=True)
    if raw["detector"] not in detector_names:
        # The tracker's own type and parameters are checked too: one pass reports them all.
        tracker_spec(log, raw["type"], raw["detector"], raw.get("params") or {}, ("tracker",), line)
        log.error(
            ("tracker", "detector"),
            f"unknown detector {raw['detector']!r}; the pipeline's detectors: " + ", ".join(map(str, detector_names)),
        )
        return None
    return tracker_spec(log, raw["type"], raw["detector"], raw.get("params") or {}, ("tracker",), line)


def object_tracker_spec(log: IssueLog, relations: RelationsSpec) -> TrackerSpec | None:
    """The spec of ``relations.objects.tracker`` (its default when the file has none)."""
    path = ("relations", "objects", "tracker")
    tracker = relations.objects.tracker
    return tracker_spec(log, tracker.type, relations.objects.detector, dict(tracker.params), path, log.lines.line(path))


def object_labels(relations_raw: Mapping[str, Any], detectors: list[DetectorSpec]) -> list[str] | None:
    """The labels the relations' object detector can give: its ``classes`` filter, else all its labels."""
    name = (relations_raw.get("objects") or {}).get("detector")
    for spec in detectors:
        if spec.name == name:
            classes = spec.params.get("classes")
            labels = list(classes) if classes else list(getattr(spec.plugin_class, "labels", ()))
            return labels or None
    return None
