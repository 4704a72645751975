"""Atomic installs: build a model folder beside the cache entry, record its hashes, swap it in by rename.

Nothing half-written is ever visible under the model's name: the folder is built in a
temporary folder inside the cache and renamed into place; on any error it is removed.

Example:
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> def build(out):
    ...     (out / "model.fp32.tflite").write_bytes(b"x")
    ...     return {"source": {"tarball": "t.tgz"}}
    >>> record = install_atomically(root, "m", build, {"name": "m"})
    >>> sorted(p.name for p in (root / "m").iterdir()), list(record["files"])
    (['installed.json', 'model.fp32.tflite'], ['model.fp32.tflite'])
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.modelstore.archive import sha256_file
from orchestrator.modelstore.installed import INSTALLED_FILE


def install_atomically(
    root: Path, name: str, build: Callable[[Path], Mapping[str, Any]], record: Mapping[str, Any]
) -> dict[str, Any]:
    """Run ``build(out_dir)``, write ``installed.json`` (``record``, what ``build`` returned, file hashes), rename.

    ``build`` may return a ``"files"`` entry, file name → facts about that file (role, where it
    came from): they are kept beside the file's ``sha256`` and ``bytes`` in the record.
    ``root / name`` is replaced as a whole; the previous folder, if any, is removed after the swap.
    Returns the record written.
    """
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    try:
        out = work / "model"
        out.mkdir()
        extra = dict(build(out))
        facts = extra.pop("files", {})
        files = {
            p.name: {**facts.get(p.name, {}), "sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(out.iterdir())
        }
        written = {**record, **extra, "files": files}
        (out / INSTALLED_FILE).write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")
        replace_dir(out, root / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return written


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst``, or copy it where links are not possible."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an existing ``target`` is swapped out first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
        target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
