"""Safe YAML loading that remembers the line of every value, so errors can say ``file:line``.

Example:
    >>> data, lines = load_yaml("version: 1\\ndetectors:\\n  hands: {plugin: x}\\n", "p.yaml")
    >>> data["detectors"], lines.line(("detectors", "hands", "plugin")), lines.line(("nope",))
    ({'hands': {'plugin': 'x'}}, 3, 1)
    >>> load_yaml("a: [1, 2\\n", "p.yaml")
    Traceback (most recent call last):
    ...
    orchestrator.errors.ConfigError: p.yaml:1: (top): invalid YAML: expected ',' or ']', but got '<stream end>'

Pipeline files are small and hand-written, so four things YAML allows are refused, each as a
``file:line: field`` issue before anything is built: aliases (``*name``: a 600-byte file of nested
aliases expands to hundreds of millions of nodes), tags naming Python objects (``!!python/...``),
a key given twice in one mapping (YAML keeps the last silently: a second ``hands:`` would replace
the first), files over 1 MiB and files of more than `MAX_NODES` values. An alias or a tag is
never followed: its value is read as null and its path is listed in `YamlDocument.skipped`, so
the rest of the file is still checked in the same pass (`read_yaml`); `load_yaml` raises at once.

    >>> load_yaml("a: &x [1]\\nb: *x\\n", "p.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    orchestrator.errors.ConfigError: p.yaml:2: b: YAML aliases (*x) are not allowed in pipeline files; ...
    >>> doc = read_yaml("a: &x [1]\\nb: {c: *x, d: 2}\\n", "p.yaml")
    >>> doc.data, doc.skipped, [str(issue) for issue in doc.issues]  # doctest: +ELLIPSIS
    ({'a': [1], 'b': {'c': None, 'd': 2}}, (('b', 'c'),), ['p.yaml:2: b.c: YAML aliases (*x) are not allowed ...'])
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import yaml

from detectors.params import dotted
from orchestrator.errors import ConfigError, ConfigIssue

#: The largest pipeline file read, in bytes (real ones are a few kB).
MAX_FILE_BYTES = 1 << 20
#: The most values (YAML nodes) a pipeline file may hold; real ones have a few hundred. Reading
#: YAML takes ~50 µs a node here, so 680 kB of ``[0,0,...]`` took 19 s; this bounds it at ~1 s.
MAX_NODES = 20_000


class _TooManyNodes(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


_CORE_TAG = "tag:yaml.org,2002:"


class _Loader(yaml.SafeLoader):
    """`yaml.SafeLoader` that never follows an alias nor builds a tagged object: each becomes a null, remembered.

    An alias is replaced by a null node when the document is composed (so nothing is ever
    expanded: composing stays linear in the file's size); a tag the safe constructor does not
    know constructs None.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        #: (placeholder node, anchor name) for every alias, in file order.
        self.aliases: list[tuple[yaml.Node, str]] = []
        #: Nodes whose tag was refused, in construction order.
        self.tagged: list[yaml.Node] = []
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # type: ignore[override]
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooManyNodes(self.peek_event().start_mark.line + 1)
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            node = yaml.ScalarNode(_CORE_TAG + "null", "", event.start_mark, event.end_mark)
            self.aliases.append((node, event.anchor))
            return node
        return super().compose_node(parent, index)

    def _refuse_tag(self, node: yaml.Node) -> None:
        self.tagged.append(node)


_Loader.add_constructor(None, _Loader._refuse_tag)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE_TAG) :] if tag.startswith(_CORE_TAG) else tag


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
        #: The path of each node, by ``id`` (the document's nodes live as long as this map).
        self.paths: dict[int, tuple[Any, ...]] = {}
        self._root = root
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.value_lines[path] = node.start_mark.line + 1
        self.paths[id(node)] = path
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                with contextlib.suppress(yaml.YAMLError):
                    key = yaml.safe_load(yaml.serialize(key_node))  # int keys stay ints, as safe_load gives them
                if isinstance(key, (list, dict)):
                    key = str(key_node.value)  # a complex key (refused by the schema): a hashable stand-in
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


@dataclass(frozen=True)
class YamlDocument:
    """A pipeline file read by `read_yaml`.

    Attributes:
        data: the document as ``yaml.safe_load`` would give it, with every alias and refused tag read as None.
        lines: the line of every value.
        issues: the aliases, refused tags and duplicate keys, one `ConfigIssue` each, in line order.
        skipped: the paths whose value was an alias or a refused tag (already reported: nothing else
            should be said about them).
    """

    data: Any
    lines: LineMap
    issues: tuple[ConfigIssue, ...]
    skipped: tuple[tuple[Any, ...], ...]


def _yaml_error(exc: yaml.YAMLError, text: str, file: str) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    if mark is not None and context is not None and mark.index >= len(text.rstrip()):
        mark = context  # an unclosed bracket or quote: its opening line, not the end of the file
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ConfigError([ConfigIssue(file, line, "", f"invalid YAML: {problem}")])


def read_yaml(text: str, file: str) -> YamlDocument:
    """Read pipeline ``text``: its data, lines, and the problems that leave the rest of it checkable.

    Raises `ConfigError` (one issue) for a file over `MAX_FILE_BYTES`, of more than `MAX_NODES`
    values, or invalid YAML: nothing else can be read then. Aliases, refused tags and duplicate
    keys are returned as issues.
    """
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        message = f"file is {size} bytes; a pipeline file may have at most {MAX_FILE_BYTES} (1 MiB)"
        raise ConfigError([ConfigIssue(file, 1, "", message)])
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        lines = LineMap(root)
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, file) from exc
    except _TooManyNodes as exc:
        message = f"more than {MAX_NODES} values; a pipeline file has a few hundred"
        raise ConfigError([ConfigIssue(file, exc.line, "", message)]) from None
    finally:
        loader.dispose()
    issues = _duplicate_keys(root, file)
    skipped: list[tuple[Any, ...]] = []
    uses: dict[str, list[yaml.Node]] = {}
    for node, anchor in loader.aliases:
        skipped.append(lines.paths.get(id(node), ()))
        uses.setdefault(anchor, []).append(node)
    # One issue per anchor, at its first use: nine uses of one alias are one mistake, not nine.
    for anchor, nodes in uses.items():
        first = nodes[0]
        more = f" ({len(nodes)} uses of *{anchor}, the first here)" if len(nodes) > 1 else ""
        message = f"YAML aliases (*{anchor}) are not allowed in pipeline files; write the value out{more}"
        issues.append(ConfigIssue(file, first.start_mark.line + 1, dotted(lines.paths.get(id(first), ())), message))
    for node in loader.tagged:
        path = lines.paths.get(id(node), ())
        skipped.append(path)
        message = f"YAML tag {_short_tag(node.tag)} is not allowed in pipeline files; write a plain value"
        issues.append(ConfigIssue(file, node.start_mark.line + 1, dotted(path), message))
    issues.sort(key=lambda issue: issue.line)
    return YamlDocument(data, lines, tuple(issues), tuple(skipped))


def load_yaml(text: str, file: str) -> tuple[Any, LineMap]:
    """``yaml.safe_load(text)`` and the lines of its values.

    Raises `ConfigError` for invalid YAML, a file over `MAX_FILE_BYTES`, or any issue of
    `read_yaml` (every alias, refused tag and duplicate key, with both lines).
    """
    document = read_yaml(text, file)
    if document.issues:
        raise ConfigError(list(document.issues))
    return document.data, document.lines
