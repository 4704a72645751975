"""Frame sources: a camera index, a video file, a folder of images or a stream URL.

`open_source` picks the kind from the value; each source yields BGR frames as OpenCV decodes
them, with their time in the source, and says how it ended (`Source`: ``end_status`` and the
counts); the runtime's reader thread reads it. Problems a user can fix
(missing file, no permission, not a video, empty folder, a stream that does not answer) are
raised at open as `UserError` with the path and what was expected.

* `VideoFileSource` (``video.py``): presentation timestamps; damaged spans skipped; ``truncated``.
* `LiveCaptureSource` (``live.py``): cameras and streams; timeouts, reconnection, ``source_lost``.
* `ImageFolderSource` (``folder.py``): images in natural order; undecodable ones skipped or fatal.
* `IterableSource` (``iterable.py``): the caller's own RGB arrays or ``(array, time_s)`` pairs.

Example:
    >>> src = open_source("../shared/data/egodex/add_remove_lid_0.mp4")   # doctest: +SKIP
    >>> src.kind, src.live                                                 # doctest: +SKIP
    ('video', False)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from orchestrator.config.env import is_url
from orchestrator.config.spec import ReconnectSpec, SourceSpec
from orchestrator.sources.base import DEFAULT_FPS, END_STATUSES, MAX_SKIPPED_NAMES, Source
from orchestrator.sources.folder import ImageFolderSource
from orchestrator.sources.iterable import IterableSource, is_frame_iterable
from orchestrator.sources.live import LiveCaptureSource, backoff_delays
from orchestrator.sources.video import VideoFileSource

__all__ = [
    "DEFAULT_FPS",
    "END_STATUSES",
    "MAX_SKIPPED_NAMES",
    "ImageFolderSource",
    "IterableSource",
    "LiveCaptureSource",
    "Source",
    "VideoFileSource",
    "backoff_delays",
    "open_source",
]


def open_source(
    uri: str | int | Iterable[Any],
    fps: float | None = None,
    *,
    timeout_s: float = SourceSpec.timeout_s,
    reconnect: ReconnectSpec = SourceSpec.reconnect,
    on_bad_frame: str = SourceSpec.on_bad_frame,
    decode_threads: int = SourceSpec.decode_threads,
) -> Source:
    """Open ``uri``: an int (or digits) is a camera, ``scheme://`` a stream, a folder images, an
    iterable of arrays the caller's frames (`IterableSource`), else a video.

    ``timeout_s`` and ``reconnect`` apply to cameras and streams, ``on_bad_frame`` to files and
    folders, ``decode_threads`` to video files (the pipeline's ``source:`` options, `SourceSpec`).
    Raises `UserError` with the path and the reason when it cannot be opened.
    """
    if is_frame_iterable(uri):
        return IterableSource(uri, fps)  # type: ignore[arg-type]
    if isinstance(uri, int) or (isinstance(uri, str) and uri.strip().isdigit()):
        return LiveCaptureSource(int(uri), fps, timeout_s=timeout_s, reconnect=reconnect)
    if is_url(uri):
        return LiveCaptureSource(uri, fps, timeout_s=timeout_s, reconnect=reconnect)
    if os.path.isdir(uri):
        return ImageFolderSource(uri, fps, on_bad_frame=on_bad_frame)
    return VideoFileSource(uri, fps, on_bad_frame=on_bad_frame, decode_threads=decode_threads)
