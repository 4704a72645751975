"""Image operations the plugins share: resampling exactly as the models were trained with."""

from __future__ import annotations

import numpy as np


def resize_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an ``(H, W, C)`` image to ``size = (width, height)`` as float32, like TensorFlow's
    ``ResizeBilinear`` with ``align_corners=False, half_pixel_centers=False`` (the TF1 and tfjs
    default, which these models were trained and exported with): source = destination × scale,
    no half-pixel offset, no antialiasing. The aspect ratio is not kept (stretch).

    ``cv2.resize`` would shift the image by half a source pixel (it uses pixel centres); an
    inverse affine warp with edge replication reproduces TensorFlow's sampling exactly.

    Example:
        >>> resize_bilinear(np.arange(4, dtype=np.uint8).reshape(1, 4, 1), (2, 1))[0, :]
        array([0., 2.], dtype=float32)
    """
    import cv2  # imported here: module import of the plugins must stay cheap

    width, height = size
    scale = np.array([[image.shape[1] / width, 0, 0], [0, image.shape[0] / height, 0]], np.float64)
    return cv2.warpAffine(
        np.asarray(image, np.float32),
        scale,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


CHANNEL_ORDERS = ("rgb", "bgr")


def in_channel_order(rgb: np.ndarray, channel_order: str) -> np.ndarray:
    """An RGB ``uint8 (H, W, 3)`` image in ``channel_order`` (a detector's `channel_order`).

    Returns ``rgb`` itself for ``"rgb"`` and a new C-contiguous array with the channels swapped for
    ``"bgr"`` (the swap is its own inverse, so this also turns BGR into RGB). Raises ``ValueError``
    for another order.

    Example:
        >>> in_channel_order(np.array([[[1, 2, 3]]], np.uint8), "bgr").tolist()
        [[[3, 2, 1]]]
    """
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"channel order must be one of {list(CHANNEL_ORDERS)}, got {channel_order!r}")
    if channel_order == "rgb":
        return rgb
    return np.ascontiguousarray(rgb[..., ::-1])
