"""Still images for calibration and evaluation: list a folder, decode a file to RGB.

Example:
    >>> import tempfile
    >>> list_images(Path(tempfile.mkdtemp()))
    []
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.errors import UserError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def list_images(directory: Path) -> list[Path]:
    """Image files (jpg, jpeg, png, bmp) directly in ``directory``, sorted by name.

    Raises:
        UserError: ``directory`` is not a folder.
    """
    if not directory.is_dir():
        raise UserError(f"{directory}: not a folder of images")
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def read_rgb(path: Path) -> Any:
    """Decode an image file to an RGB ``uint8`` array ``(H, W, 3)``.

    Raises:
        UserError: the file is missing or not a readable JPEG/PNG/BMP (naming the file).
    """
    import cv2
    import numpy as np

    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    image = None
    if data is not None and data.size:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise UserError(f"{path}: cannot decode image (not a readable JPEG/PNG/BMP file)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
