"""Checks of output paths (``--events``, ``--video-out``) before a run starts.

A run finds out that it cannot write its outputs before it opens the source or loads a model,
and it never writes over one of its own inputs (the source video, the pipeline file): that
would destroy the very file the user wanted processed.

Example:
    >>> check_output("missing/e.jsonl", "--events", {})
    Traceback (most recent call last):
    orchestrator.errors.UserError: --events missing/e.jsonl: folder missing does not exist
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from orchestrator.errors import UserError


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True if ``a`` and ``b`` name one file (links followed; paths compared when one does not exist).

    Example:
        >>> same_file("a/../b.txt", "b.txt"), same_file("b.txt", "c.txt")
        (True, False)
    """
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(path: str, option: str, inputs: Mapping[str, str | os.PathLike[str]]) -> None:
    """Raise `UserError` (one line naming ``option`` and ``path``) unless ``path`` can be written.

    ``path`` must not be a folder, its folder must exist and be writable (or the file itself be
    writable: a device such as ``/dev/null``), and it must not be any of ``inputs``
    (``{"source": ..., "pipeline file": ...}``): a run never overwrites what it reads.
    """
    target = Path(path)
    for what, other in inputs.items():
        if same_file(target, other):
            raise UserError(f"{option} {path}: is the {what} ({other}); refusing to write over it")
    if target.is_dir():
        raise UserError(f"{option} {path}: is a folder; expected a file path")
    folder = target.parent
    if not folder.is_dir():
        raise UserError(f"{option} {path}: folder {folder} does not exist")
    if target.exists():
        if not os.access(target, os.W_OK):
            raise UserError(f"{option} {path}: not writable (permission denied)")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{option} {path}: cannot create a file in {folder} (permission denied)")
