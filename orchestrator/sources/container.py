"""Whether a video file's container states its exact frame count.

OpenCV's ``CAP_PROP_FRAME_COUNT`` is the container's own count for MP4/MOV (the sample table of
the ``moov`` box) and AVI (the stream header), but only duration × rate for Matroska/WebM,
MPEG-TS and fragmented MP4: ``cards_topdown_0.webm`` says 280 and has 283 frames,
``cards_topdown_2.webm`` says 275 and has 259. Only a stated count can tell a file that ended
early from one that ended, so anything else is not trusted. The check reads box and chunk
headers only (a few hundred bytes).

Example:
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(suffix=".webm", delete=False) as f:
    ...     _ = f.write(bytes.fromhex("1a45dfa3") + bytes(60))
    >>> states_frame_count(f.name)
    False
    >>> os.unlink(f.name)
"""

from __future__ import annotations

import struct
from typing import BinaryIO

#: Boxes read while looking for ``moov`` before giving up (a normal file has a handful).
_MAX_BOXES = 64


def states_frame_count(path: str) -> bool:
    """True when ``path`` is an AVI, or an MP4/MOV whose ``moov`` box is not fragmented (no ``mvex``).

    Unreadable files and files of any other kind give False.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(12)
            if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
                return True
            if head[4:8] != b"ftyp":
                return False
            file.seek(0)
            moov = _find_box(file, b"moov", end=None)
            if moov is None:
                return False
            start, end = moov
            file.seek(start)
            return _find_box(file, b"mvex", end=end) is None
    except OSError:
        return False


def _find_box(file: BinaryIO, kind: bytes, end: int | None) -> tuple[int, int] | None:
    """The (payload start, end) of the first box ``kind`` from the file's position up to ``end``."""
    for _ in range(_MAX_BOXES):
        position = file.tell()
        if end is not None and position + 8 > end:
            return None
        header = file.read(8)
        if len(header) < 8:
            return None
        size, box = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:  # a 64-bit size follows the type
            large = file.read(8)
            if len(large) < 8:
                return None
            size = struct.unpack(">Q", large)[0]
            payload += 8
        elif size == 0:  # the box runs to the end of its container
            size = (end if end is not None else file.seek(0, 2)) - position
        if size < payload - position:
            return None  # damaged: a box smaller than its own header
        if box == kind:
            return payload, position + size
        file.seek(position + size)
    return None
