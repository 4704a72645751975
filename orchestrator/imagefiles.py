"""Which files of a folder are images: one rule for image-folder sources, calibration and evaluation sets.

A file is an image when its suffix is one OpenCV decodes (`IMAGE_SUFFIXES`, any case) and its name
does not start with a dot: ``.DS_Store`` and macOS's ``._frame.jpg`` (AppleDouble metadata next to
``frame.jpg``) are not frames. Folders are never images, whatever their name (``extra.jpg/``).
Order is natural: ``frame_2.jpg`` before ``frame_10.jpg``.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("f10.jpg", "f2.PNG", "._f2.jpg", ".DS_Store", "notes.txt", "Thumbs.db"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> (folder / "extra.jpg").mkdir()
    >>> [p.name for p in image_files(folder)]
    ['f2.PNG', 'f10.jpg']
"""

from __future__ import annotations

import re
from pathlib import Path

#: Suffixes read as images (compared in lower case).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def natural_key(path: Path) -> list[object]:
    """Sort key of a file name with its digit runs as numbers (``f2`` < ``f10``), case-insensitive."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def image_files(folder: Path) -> list[Path]:
    """The image files directly in ``folder`` (see the module doc), in natural order."""
    return sorted(
        (
            p
            for p in folder.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        ),
        key=natural_key,
    )
