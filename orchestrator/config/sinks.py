"""Resolve ``outputs.sinks``: each sink's type in the sink registry, its keys against its ``params_schema``.

An item is ``{type, name?, ...the sink's own keys}``. The type is looked up in
`orchestrator.registry.SINKS`; the other keys are checked with the one parameter check (through
`IssueLog.check`, so each problem has its YAML line); input files (``ca_file``) must exist and
output files' folders too; secrets (a ``password:``) are refused with the ``..._env`` key to use
instead; the sink is then constructed (cheap: no connection) so its own checks (a topic, an unset
environment variable) are reported in the same pass. Names are unique: they key the summary's
``sinks`` counts.

Example:
    >>> from pathlib import Path
    >>> from orchestrator.config.yaml_lines import load_yaml
    >>> text = '''
    ... outputs:
    ...   sinks:
    ...     - {type: mqtt, host: broker, password: hunter2}
    ...     - {type: jsonl, path: c.jsonl}
    ... '''
    >>> data, lines = load_yaml(text, "p.yaml")
    >>> log = IssueLog("p.yaml", Path("/tmp"), lines)
    >>> [(spec.name, spec.params) for spec in sink_specs(log, data["outputs"]["sinks"])]
    [('jsonl', {'path': '/tmp/c.jsonl'})]
    >>> print(log.issues[0])  # doctest: +NORMALIZE_WHITESPACE
    p.yaml:4: outputs.sinks[0].password: a password does not go in a pipeline file; put it in an environment
    variable and name that variable: password_env: NAME
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.config.env import resolve_path
from orchestrator.config.issues import IssueLog
from orchestrator.config.plugins import _constructs, _params, _plugin
from orchestrator.config.spec import SinkSpec
from orchestrator.registry import SINKS

#: The keys of an item that are not the sink's own parameters.
_ITEM_KEYS = ("type", "name")


def _refuse_secrets(log: IssueLog, sink_class: type, params: dict[str, Any], path: tuple[Any, ...]) -> bool:
    """Record (and take out of ``params``) every secret the file gives in clear; True when there was none."""
    properties = (getattr(sink_class, "params_schema", None) or {}).get("properties", {})
    secrets = [k for k in params if k in getattr(sink_class, "secret_params", ())]
    for key in secrets:
        del params[key]
        instead = f"{key}_env: NAME" if f"{key}_env" in properties else "the sink's *_env keys"
        article = "an" if key[:1] in "aeiou" else "a"
        message = (
            f"{article} {key} does not go in a pipeline file; "
            "put it in an environment variable and name that variable: "
        )
        log.error((*path, key), message + instead, key=True)
    return not secrets


def _expand_strings(log: IssueLog, sink_class: type, params: dict[str, Any], path: tuple[Any, ...]) -> bool:
    """Expand ``${VAR}`` in the sink's other string parameters (host, url, topic) in place; False if one is unset."""
    sound = True
    outputs = set(getattr(sink_class, "output_path_params", ()))
    for key, value in params.items():
        if key in outputs or not isinstance(value, str) or "${" not in value:
            continue
        expanded = log.expand((*path, key), value)
        if expanded is None:
            sound = False
            continue
        params[key] = expanded
    return sound


def _resolve_outputs(log: IssueLog, sink_class: type, params: dict[str, Any], path: tuple[Any, ...]) -> bool:
    """Resolve the output file parameters in place against the pipeline's folder; False when one's folder is missing."""
    sound = True
    for key in getattr(sink_class, "output_path_params", ()):
        if not isinstance(params.get(key), str):
            continue
        expanded = log.expand((*path, key), params[key])
        if expanded is None:
            sound = False
            continue
        target = resolve_path(expanded, log.base)
        if not target.parent.is_dir():
            log.error((*path, key), f"folder does not exist: {target.parent}")
            sound = False
        params[key] = str(target)
    return sound


def sink_specs(log: IssueLog, raw: Any) -> tuple[SinkSpec, ...]:
    """The specs of the well-formed items of ``outputs.sinks`` (``raw``); problems recorded in ``log``."""
    specs: list[SinkSpec] = []
    taken: dict[str, int] = {}
    for index, item in enumerate(raw if isinstance(raw, list) else ()):
        path = ("outputs", "sinks", index)
        if not isinstance(item, Mapping) or "type" not in item or not all(log.sound((*path, k)) for k in _ITEM_KEYS):
            continue  # its problem is already recorded
        name = str(item.get("name", item["type"]))
        if name in taken:
            where = (*path, "name") if "name" in item else path
            message = f"sink name {name!r} is taken by outputs.sinks[{taken[name]}]; give each sink its own name: key"
            log.error(where, message)
            continue
        taken[name] = index
        entry = _plugin(log, SINKS, item["type"], (*path, "type"))
        if entry is None:
            continue
        params = {key: value for key, value in item.items() if key not in _ITEM_KEYS}
        clear = _refuse_secrets(log, entry.obj, params, path)
        clear = _expand_strings(log, entry.obj, params, path) and clear
        checked = _params(log, entry.obj, params, path)
        if checked is None:
            continue
        if not _resolve_outputs(log, entry.obj, checked.resolved, path):
            continue
        if not _constructs(log, f"{item['type']} sink", entry.obj, checked, path) or not (checked.sound and clear):
            continue
        specs.append(SinkSpec(name, item["type"], entry.obj, entry.origin, checked.resolved, log.lines.line(path)))
    return tuple(specs)
