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
from orchestrator.imagefiles import IMAGE_SUFFIXES, image_files

__all__ = ["IMAGE_SUFFIXES", "list_images", "read_rgb"]


def list_images(directory: Path) -> list[Path]:
    """The image files directly in ``directory`` (`orchestrator.imagefiles.image_files`).

    Raises:
        UserError: ``directory`` is not a folder.
    """
    if not directory.is_dir():
        raise UserError(f"{directory}: not a folder of images")
    return image_files(directory)


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
