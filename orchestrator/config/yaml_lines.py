"""Safe YAML loading that remembers the line of every value, so errors can say ``file:line``.

Example:
    >>> data, lines = load_yaml("version: 1\\ndetectors:\\n  hands: {plugin: x}\\n", "p.yaml")
    >>> data["detectors"], lines.line(("detectors", "hands", "plugin")), lines.line(("nope",))
    ({'hands': {'plugin': 'x'}}, 3, 1)
    >>> load_yaml("a: [1, 2\\n", "p.yaml")
    Traceback (most recent call last):
    ...
    orchestrator.errors.ConfigError: p.yaml:1: (top): invalid YAML: expected ',' or ']', but got '<stream end>'
"""

from __future__ import annotations

import contextlib
from typing import Any

import yaml

from orchestrator.errors import ConfigError, ConfigIssue


class LineMap:
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
        """The line of ``path``'s value (its key's with ``key=True``), else of its nearest ancestor, else 1."""
        if key and path in self.key_lines:
            return self.key_lines[path]
        while path not in self.value_lines and path:
            path = path[:-1]
        return self.value_lines.get(path, 1)


def load_yaml(text: str, file: str) -> tuple[Any, LineMap]:
    """``yaml.safe_load(text)`` and the lines of its values; raises `ConfigError` on invalid YAML."""
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
    return data, LineMap(root)
