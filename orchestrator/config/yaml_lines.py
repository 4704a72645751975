"""Safe YAML loading that remembers the line of every value, so errors can say ``file:line``.

Example:
    >>> data, lines = load_yaml("version: 1\\ndetectors:\\n  hands: {plugin: x}\\n", "p.yaml")
    >>> data["detectors"], lines.line(("detectors", "hands", "plugin")), lines.line(("nope",))
    ({'hands': {'plugin': 'x'}}, 3, 1)
    >>> load_yaml("a: [1, 2\\n", "p.yaml")
    Traceback (most recent call last):
    ...
    orchestrator.errors.ConfigError: p.yaml:1: (top): invalid YAML: expected ',' or ']', but got '<stream end>'

Pipeline files are small and hand-written, so three things YAML allows are refused, each as a
``file:line`` issue before anything is built: aliases (``*name``: a 600-byte file of nested
aliases expands to hundreds of millions of nodes), a key given twice in one mapping (YAML
keeps the last silently: a second ``hands:`` would replace the first), and files over 1 MiB.

    >>> load_yaml("a: &x [1]\\nb: *x\\n", "p.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    orchestrator.errors.ConfigError: p.yaml:2: (top): YAML aliases (*x) are not allowed in pipeline files; ...
"""

from __future__ import annotations

import contextlib
from typing import Any

import yaml

from detectors.params import dotted
from orchestrator.errors import ConfigError, ConfigIssue

#: The largest pipeline file read, in bytes (real ones are a few kB).
MAX_FILE_BYTES = 1 << 20


class _AliasFound(yaml.YAMLError):
    def __init__(self, name: str, line: int) -> None:
        super().__init__(name)
        self.name, self.line = name, line


class _NoAliasLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that stops at the first alias instead of following it."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasFound(event.anchor, event.start_mark.line + 1)
        return super().compose_node(parent, index)


def _duplicate_keys(node: yaml.Node | None, file: str) -> list[ConfigIssue]:
    """An issue for every key given twice in one mapping, at its second line, naming the first."""
    issues: list[ConfigIssue] = []
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(node, ())] if node is not None else []
    while stack:
        current, path = stack.pop()
        if isinstance(current, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, value_node in current.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                line = key_node.start_mark.line + 1
                if key is not None and key in first_line:
                    message = f"duplicate key {key!r} (first on line {first_line[key]}); a key may appear once"
                    issues.append(ConfigIssue(file, line, dotted((*path, key)), message))
                elif key is not None:
                    first_line[key] = line
                stack.append((value_node, (*path, key)))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, (*path, index)) for index, item in enumerate(current.value))
    return sorted(issues, key=lambda issue: issue.line)


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
    """``yaml.safe_load(text)`` and the lines of its values.

    Raises `ConfigError` for invalid YAML, an alias, a duplicate key (every one, with both lines)
    or a file over `MAX_FILE_BYTES`.
    """
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        message = f"file is {size} bytes; a pipeline file may have at most {MAX_FILE_BYTES} (1 MiB)"
        raise ConfigError([ConfigIssue(file, 1, "", message)])
    try:
        root = yaml.compose(text, Loader=_NoAliasLoader)
        duplicates = _duplicate_keys(root, file)
        if duplicates:
            raise ConfigError(duplicates)
        data = yaml.safe_load(text)
    except _AliasFound as exc:
        message = f"YAML aliases (*{exc.name}) are not allowed in pipeline files; write the value out"
        raise ConfigError([ConfigIssue(file, exc.line, "", message)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        if mark is not None and context is not None and mark.index >= len(text.rstrip()):
            mark = context  # an unclosed bracket or quote: its opening line, not the end of the file
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([ConfigIssue(file, line, "", f"invalid YAML: {problem}")]) from exc
    return data, LineMap(root)
