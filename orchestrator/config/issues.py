"""`IssueLog`: the problems of one pipeline file, collected in one pass, each with its YAML line.

Schema problems are recorded first; `IssueLog.sound` then tells which parts of the file are
well-formed enough to resolve further (plugin names, parameters, files, cross-references), so
one `validate` shows every error of the file at once.

Example:
    >>> from orchestrator.config.yaml_lines import load_yaml
    >>> data, lines = load_yaml("version: 1\\ndetectors:\\n  a: {plugin: x, bad: 1}\\n  b: {plugin: y}\\n", "p.yaml")
    >>> log = IssueLog("p.yaml", Path("."), lines)
    >>> log.check(data["detectors"], {"type": "object", "additionalProperties": {"properties": {"plugin": {}},
    ...           "additionalProperties": False}}, ("detectors",))
    False
    >>> [str(i) for i in log.issues], log.sound(("detectors", "a")), log.sound(("detectors", "b"))
    (["p.yaml:3: detectors.a.bad: unknown key 'bad'; expected one of: plugin"], False, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from detectors.params import dotted, schema_problems
from orchestrator.config.env import expand_env, resolve_path
from orchestrator.config.yaml_lines import LineMap
from orchestrator.errors import ConfigIssue


class IssueLog:
    """Accumulates `ConfigIssue` s while resolving one pipeline file.

    Args:
        file: the file name used in messages, as the user gave it.
        base: the folder relative paths of the file are resolved against.
        lines: the line map of the file.
        skipped: paths already reported while reading (an alias, a refused tag: read as null);
            they count as broken, and no schema problem is reported at or inside them.
    """

    def __init__(self, file: str, base: Path, lines: LineMap, skipped: tuple[tuple[Any, ...], ...] = ()) -> None:
        self.file = file
        self.base = base
        self.lines = lines
        self.issues: list[ConfigIssue] = []
        self._skipped = tuple(skipped)
        self._broken: list[tuple[Any, ...]] = list(skipped)

    def error(self, path: tuple[Any, ...], message: str, key: bool = False) -> None:
        """Record ``message`` at ``path`` (at the line of its key with ``key=True``)."""
        self.issues.append(ConfigIssue(self.file, self.lines.line(path, key=key), dotted(path), message))

    def check(self, instance: Any, schema: Mapping[str, Any], prefix: tuple[Any, ...] = ()) -> bool:
        """Validate ``instance`` (found at ``prefix``) against ``schema``; record each problem. True when valid."""
        problems = schema_problems(instance, schema)
        for p in problems:
            where = (*prefix, *p.line_path)
            if any((*prefix, *p.path)[: len(skipped)] == skipped for skipped in self._skipped):
                continue  # the value is an alias or a refused tag, reported as such
            self.issues.append(
                ConfigIssue(self.file, self.lines.line(where, key=True), dotted((*prefix, *p.path)), p.message)
            )
            self._broken.append(where)
        return not problems

    def refuse_key(self, path: tuple[Any, ...], message: str) -> None:
        """Record ``message`` about the last key of ``path``, at its line, under the mapping that holds it;
        ``path`` counts as broken (left out from here on)."""
        line = self.lines.line(path, key=True)
        self.issues.append(ConfigIssue(self.file, line, dotted(path[:-1]), message))
        self._broken.append(path)

    def sound(self, path: tuple[Any, ...]) -> bool:
        """Whether no schema problem was recorded at ``path`` or inside it."""
        return not any(broken[: len(path)] == path for broken in self._broken)

    def broken_keys(self, path: tuple[Any, ...]) -> set[Any] | None:
        """The keys directly under mapping ``path`` with a problem at or inside them; None when ``path`` itself
        is broken (a problem recorded at ``path``, such as a missing required key or a wrong type)."""
        keys: set[Any] = set()
        for broken in self._broken:
            if broken[: len(path)] != path:
                continue
            if len(broken) == len(path):
                return None
            keys.add(broken[len(path)])
        return keys

    def expand(self, path: tuple[Any, ...], value: str) -> str | None:
        """``value`` with ``${VAR}`` expanded, or None (and an issue) when a variable is unset."""
        try:
            return expand_env(value)
        except KeyError as exc:
            self.error(path, f"environment variable {exc.args[0]} is not set (use ${{{exc.args[0]}:-default}})")
            return None

    def existing_file(self, path: tuple[Any, ...], value: str) -> str | None:
        """``value`` expanded and resolved to an absolute path that exists, or None (and an issue)."""
        expanded = self.expand(path, value)
        if expanded is None:
            return None
        resolved = resolve_path(expanded, self.base)
        if not resolved.exists():
            self.error(path, f"file not found: {resolved}")
            return None
        return str(resolved)
