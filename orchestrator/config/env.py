"""``${VAR}`` expansion and path resolution for the string paths of a pipeline file.

Example:
    >>> expand_env("${ORCHESTRATOR_DOCTEST_UNSET:-clips}/a.mp4")
    'clips/a.mp4'
    >>> resolve_source_uri("0", Path("/data")), resolve_source_uri("rtsp://cam/1", Path("/data"))
    (0, 'rtsp://cam/1')
    >>> resolve_path("clip.mp4", Path("/data"))
    PosixPath('/data/clip.mp4')
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_URL_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def expand_env(value: str) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``; raises KeyError(VAR) if unset without default."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise KeyError(name)

    return _ENV_PATTERN.sub(replace, value)


def is_url(text: str) -> bool:
    """Whether ``text`` starts with a URL scheme (``rtsp://``, ``http://``...)."""
    return bool(_URL_PATTERN.match(text))


def resolve_path(text: str, base: Path) -> Path:
    """``~`` expanded; a relative path made absolute against the folder ``base``."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def resolve_source_uri(uri: str | int, base: Path) -> str | int:
    """A camera index stays an int, a URL stays as is, a path becomes absolute (against ``base``)."""
    if isinstance(uri, int):
        return uri
    text = uri.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    if is_url(text):
        return text
    return str(resolve_path(text, base))
