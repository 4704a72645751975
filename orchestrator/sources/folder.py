"""A folder of images: the frames in natural name order, an undecodable image skipped or fatal.

Which files are frames is `orchestrator.imagefiles`' rule (hidden files such as ``.DS_Store`` and
``._frame.jpg``, folders and other files are not). An image that does not decode is, with
``on_bad_frame="skip"`` (the default), skipped: counted in ``frames_skipped`` and its file name
kept in ``skipped_names``; with ``"stop"`` the source ends with ``error`` and a message naming
it, after the frames before it were delivered.

Example:
    >>> import tempfile, cv2, numpy as np
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("1.png", "3.png"):
    ...     _ = cv2.imwrite(str(folder / name), np.zeros((4, 6, 3), np.uint8))
    >>> _ = (folder / "2.png").write_bytes(b"not a png")
    >>> src = ImageFolderSource(str(folder), fps=10)
    >>> [time_s for _, time_s in iter(src.read, None)], src.end_status, src.skipped_names
    ([0.0, 0.2], 'truncated', ['2.png'])
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from orchestrator.errors import UserError
from orchestrator.imagefiles import IMAGE_SUFFIXES, image_files
from orchestrator.sources.base import Source


class ImageFolderSource(Source):
    """A folder of images in natural name order (``2.jpg`` before ``10.jpg``).

    A frame's time is ``position / fps``, its position in the folder's order, so a skipped image
    leaves a gap in time. Ends ``completed`` when every image decoded, ``truncated`` when some
    were skipped. Raises `UserError` for an unreadable folder or one with no images.
    """

    kind = "images"

    def __init__(self, folder: str, fps: float | None = None, on_bad_frame: str = "skip") -> None:
        super().__init__(folder, fps)
        root = Path(folder)
        if not os.access(root, os.R_OK | os.X_OK):
            raise UserError(f"{folder}: cannot read folder: permission denied")
        self.paths = image_files(root)
        if not self.paths:
            raise UserError(f"{folder}: folder contains no images (expected {', '.join(IMAGE_SUFFIXES)})")
        self.on_bad_frame = on_bad_frame
        self.frame_count = len(self.paths)
        self._index = 0

    def _next(self) -> tuple[np.ndarray, float] | None:
        while self._index < len(self.paths):
            index, path = self._index, self.paths[self._index]
            self._index += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                if self.on_bad_frame == "stop":
                    why = "corrupt, unreadable or not an image; on_bad_frame: stop"
                    return self._end("error", f"{path}: cannot decode image ({why})")
                self._skip(path.name)
                continue
            if not self.width:
                self.height, self.width = image.shape[:2]
            return image, index / self.fps
        return self._end("truncated" if self.frames_skipped else "completed")

    @property
    def known_frame_count(self) -> int:
        """The folder's images (a skipped one still has its frame index)."""
        return len(self.paths)

    def file_name(self, index: int) -> str | None:
        """The name of frame ``index``'s image, relative to the folder (``frame_0001.jpg``)."""
        return self.paths[index].name if 0 <= index < len(self.paths) else None
