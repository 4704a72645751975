"""npm tarballs: integrity before anything is read, and extraction that refuses unsafe members.

Example:
    >>> import io, tarfile, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> with tarfile.open(folder / "evil.tgz", "w:gz") as tar:
    ...     tar.addfile(tarfile.TarInfo("../escape"), io.BytesIO(b""))
    >>> unsafe_members(folder / "evil.tgz")
    [('../escape', 'path with ..')]
    >>> sri_sha512(folder / "evil.tgz").startswith("sha512-")
    True
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import shutil
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from orchestrator.errors import UserError
from orchestrator.modelstore.manifest import ModelManifest


def _digest(path: Path, digest: hashlib._Hash) -> hashlib._Hash:
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest


def sri_sha512(path: Path) -> str:
    """The SRI string (``sha512-<base64>``) of a file, as npm's ``dist.integrity`` has it."""
    return "sha512-" + base64.b64encode(_digest(path, hashlib.sha512()).digest()).decode("ascii")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    return _digest(path, hashlib.sha256()).hexdigest()


def unsafe_reason(member: tarfile.TarInfo) -> str | None:
    """Why a tar member may not be extracted (absolute path, ``..``, link, device), or ``None``."""
    parts = PurePosixPath(member.name).parts
    if member.name.startswith(("/", "\\")) or (parts and ":" in parts[0]):
        return "absolute path"
    if ".." in parts:
        return "path with .."
    if member.issym() or member.islnk():
        return "link"
    if member.isdev():
        return "device or fifo"
    if not (member.isfile() or member.isdir()):
        return "not a regular file"
    return None


def unsafe_members(tarball: Path) -> list[tuple[str, str]]:
    """``(member name, reason)`` for every unsafe member of a gzipped tarball."""
    with tarfile.open(tarball, "r:gz") as tar:
        return [(m.name, reason) for m in tar.getmembers() if (reason := unsafe_reason(m))]


@contextmanager
def checked_tarball(tarball: Path) -> Iterator[tuple[tarfile.TarFile, dict[str, tarfile.TarInfo]]]:
    """Open a gzipped tarball whose every member is safe: ``(tar, members by name without ./)``.

    Every member is checked, not only the wanted ones: one absolute path, ``..``, link or device
    anywhere means the tarball is not what npm makes, and nothing is taken from it. Tar and gzip
    errors raised inside the ``with`` block become `UserError` too.

    Raises:
        UserError: an unsafe member, or a corrupt tarball (naming the tarball).
    """
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                reason = unsafe_reason(member)
                if reason:
                    raise UserError(f"{tarball}: unsafe member {member.name!r} ({reason}); refusing the tarball")
            yield tar, {m.name.removeprefix("./"): m for m in members}
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise UserError(f"{tarball}: corrupt tarball ({exc or type(exc).__name__})") from None


def open_member(
    tarball: Path, tar: tarfile.TarFile, by_name: dict[str, tarfile.TarInfo], member_name: str, manifest: ModelManifest
) -> IO[bytes]:
    """The data of a regular-file member of an open `checked_tarball`.

    Raises:
        UserError: no such regular file (naming the tarball, the member and the model needing it).
    """
    member = by_name.get(member_name)
    source = tar.extractfile(member) if member is not None and member.isfile() else None
    if source is None:
        raise UserError(
            f"{tarball}: missing model file {member_name} (needed by {manifest.name}; is this {manifest.spec}?)"
        )
    return source


def extract_members(tarball: Path, manifest: ModelManifest, dest: Path) -> None:
    """Extract the manifest's (tfjs) files from ``tarball`` into ``dest`` (flat), refusing unsafe tarballs.

    Raises:
        UserError: an unsafe member, a missing model file, or a corrupt tarball (naming the tarball).
    """
    with checked_tarball(tarball) as (tar, by_name):
        for file_name in manifest.files:
            source = open_member(tarball, tar, by_name, manifest.source + file_name, manifest)
            with source, (dest / file_name).open("xb") as out:
                shutil.copyfileobj(source, out)
