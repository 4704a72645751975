"""The inputs of a batch: videos, folders of videos, glob patterns and list files, expanded once.

Each argument is, in this order of checks:

* a **folder**: the videos directly inside it (by suffix, `VIDEO_SUFFIXES`), sorted by name;
* a **list file** (suffix ``.txt``, ``.lst`` or ``.list``): one path per line (folders and
  globs allowed), blank lines and lines starting with ``#`` ignored, relative paths against the list's folder;
* a **glob pattern** (has ``*``, ``?`` or ``[``; ``**`` recurses): the matching files (any
  suffix: the pattern is the user's choice) and the videos of matching folders, sorted;
* any other **existing file**: a video (whatever its suffix; a broken one fails in the batch, not here).

A path that does not exist, a pattern that matches nothing and an empty folder are one-line
`UserError`\\ s naming the argument: a typo must not pass as an empty batch. An input named twice
(the same file through two arguments) is processed once.

Each input gets an output name, unique in the batch: the file's stem, or when two inputs share
a stem, ``stem-<8 hex digits of the path's sha256>`` for every input after the first (the first
keeps the plain stem). An index can pin names (`assign_names`' ``known``) so a resumed batch
writes each input to the same file as before, whatever the order of the arguments.

Example:
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for rel in ("a/clip.mp4", "b/clip.mp4", "b/notes.txt"):
    ...     (root / rel).parent.mkdir(exist_ok=True)
    ...     _ = (root / rel).write_bytes(b"x")
    >>> inputs = expand_inputs([str(root / "a"), str(root / "b")])
    >>> [path.name for path in inputs]
    ['clip.mp4', 'clip.mp4']
    >>> [name[:5] for name in assign_names(inputs).values()]
    ['clip', 'clip-']
    >>> expand_inputs([str(root / "missing.mp4")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    orchestrator.errors.UserError: input .../missing.mp4: no such file or folder
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from orchestrator.errors import UserError

#: File suffixes taken from a folder (lower case); list files and globs take any file.
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".mts", ".wmv", ".flv", ".3gp"}
)
#: Suffixes of list files: one path per line.
LIST_SUFFIXES = frozenset({".txt", ".lst", ".list"})
_GLOB_CHARS = frozenset("*?[")


def expand_inputs(arguments: Sequence[str], base: Path | None = None) -> list[Path]:
    """Absolute paths of the videos ``arguments`` name, in argument order, each once.

    ``base``: the folder relative arguments are resolved against (default: the current one).
    Raises `UserError` (one line naming the argument) for a missing path, a pattern matching
    nothing, a folder without videos, an unreadable list file, or no inputs at all.
    """
    base = Path.cwd() if base is None else base
    seen: set[Path] = set()
    found: list[Path] = []
    for path in _expand(arguments, base, depth=0):
        if path not in seen:
            seen.add(path)
            found.append(path)
    if not found:
        raise UserError("no inputs: give videos, folders, glob patterns or a list file")
    return found


def _expand(arguments: Iterable[str], base: Path, depth: int) -> Iterable[Path]:
    for argument in arguments:
        text = os.path.expanduser(argument.strip())
        path = Path(os.path.abspath(base / text))
        if path.is_dir():
            yield from _folder(path, argument)
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            if depth >= 4:  # a list naming itself (or a cycle of lists) must not recurse forever
                raise UserError(f"input {argument}: list files nested more than 4 deep")
            yield from _expand(_list_lines(path), path.parent, depth + 1)
        elif path.is_file():
            yield path
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(str(path), recursive=True))
            if not matches:
                raise UserError(f"input {argument}: the pattern matches no file")
            for match in map(Path, matches):
                if match.is_dir():
                    yield from _folder(match, match.as_posix(), required=False)
                elif match.is_file():
                    yield match
        else:
            raise UserError(f"input {argument}: no such file or folder")


def _folder(folder: Path, argument: str, required: bool = True) -> list[Path]:
    videos = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if required and not videos:
        raise UserError(f"input {argument}: folder has no videos ({', '.join(sorted(VIDEO_SUFFIXES))})")
    return videos


def _list_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"input {path}: cannot read list file: {getattr(exc, 'strerror', None) or exc}") from exc
    # Only whole-line comments: a path may contain "#".
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def path_digest(path: Path) -> str:
    """Eight hex digits of the sha256 of ``path``'s text: a stable tag told apart from other paths.

    >>> path_digest(Path("/data/a/clip.mp4"))
    '8099463f'
    """
    return hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:8]


def assign_names(inputs: Sequence[Path], known: Mapping[Path, str] | None = None) -> dict[Path, str]:
    """Output names (``DIR/<name>.jsonl``) for ``inputs``: unique, and stable across runs.

    ``known`` maps inputs to the names an earlier run gave them (from the index); they keep them,
    and the names of known inputs not in ``inputs`` are not given to others (their outputs stay).
    Others take their stem, or ``stem-<path_digest>`` when that is taken (then a counter, for the
    vanishingly unlikely digest clash). Names are compared case-insensitively, for file systems
    that fold case.
    """
    known = known or {}
    names: dict[Path, str] = {}
    # Names an earlier run gave inputs not in this run still hold their outputs: never reused.
    this_run = set(inputs)
    taken: set[str] = {name.lower() for path, name in known.items() if path not in this_run}
    for path in inputs:
        name = known.get(path)
        if name is not None and name.lower() not in taken:
            names[path] = name
            taken.add(name.lower())
    for path in inputs:
        if path in names:
            continue
        stem = path.stem or "input"
        candidates = [stem, f"{stem}-{path_digest(path)}"]
        name = next((c for c in candidates if c.lower() not in taken), None)
        counter = 2
        while name is None or name.lower() in taken:
            name = f"{stem}-{path_digest(path)}-{counter}"
            counter += 1
        names[path] = name
        taken.add(name.lower())
    return {path: names[path] for path in inputs}
