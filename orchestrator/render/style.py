"""How overlays look: colours, line widths and font sizes, and their pixel sizes on one image.

Sizes are given for an image whose shorter side is ``Style.reference_size`` pixels and scale with
the image, so 320x240 and 1920x1080 both read well.

Example:
    >>> metrics(Style(), 1280, 720).thickness, metrics(Style(), 320, 240).thickness
    (2, 1)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2

#: A colour in OpenCV's channel order: blue, green, red (each 0..255).
Color = tuple[int, int, int]

#: The one font of every label and of the HUD.
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class Style:
    """Colours (BGR), widths and font sizes. Sizes are for a ``reference_size``-pixel shorter side
    and scale with the image, so a 320x240 and a 1920x1080 frame look alike.

    Raises `ValueError` when a width, font scale, reference size or dash length is not > 0, or the
    predicted skeleton's opacity is not in ``(0, 1]``.

    Example:
        >>> Style(show_hud=False).line_width
        2.0
    """

    #: Box and line width in pixels at the reference size (never below 1 px).
    line_width: float = 2.0
    #: Hershey font scale at the reference size.
    font_scale: float = 0.55
    #: Smallest font scale: below this the Hershey font stops being legible.
    min_font_scale: float = 0.33
    #: Shorter image side the sizes above are for.
    reference_size: int = 720
    #: Dash and gap length of predicted boxes, pixels at the reference size.
    dash_length: float = 10.0
    #: Colour of relation lines and their labels.
    relation_color: Color = (0, 215, 255)
    #: HUD text colour, and the colour of a detector whose result is `stale_frames` old or older.
    hud_color: Color = (255, 255, 255)
    hud_stale_color: Color = (0, 165, 255)
    stale_frames: int = 15
    show_hud: bool = True
    #: Opacity of a predicted skeleton (keypoints moved with the box, not seen): faint, not gone.
    predicted_skeleton_alpha: float = 0.4
    #: Saturation and value of the per-id colours (hue is picked per id).
    saturation: float = 0.85
    value: float = 0.95

    def __post_init__(self) -> None:
        if self.line_width <= 0 or self.font_scale <= 0 or self.reference_size <= 0 or self.dash_length <= 0:
            raise ValueError("line_width, font_scale, reference_size and dash_length must be > 0")
        if not 0.0 < self.predicted_skeleton_alpha <= 1.0:
            raise ValueError(f"predicted_skeleton_alpha must lie in (0, 1], got {self.predicted_skeleton_alpha}")


DEFAULT_STYLE = Style()


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes of a `Style` on one image size (all in pixels except the Hershey ``font_scale``)."""

    thickness: int
    thin: int
    font_scale: float
    font_thickness: int
    pad: int
    dash: int
    radius: int


@functools.lru_cache(maxsize=64)
def metrics(style: Style, width: int, height: int) -> Metrics:
    """The pixel sizes of ``style`` on a ``width`` x ``height`` image (cached: computed once per size)."""
    scale = min(width, height) / style.reference_size
    thickness = max(1, round(style.line_width * scale))
    font_scale = max(style.min_font_scale, style.font_scale * scale)
    return Metrics(
        thickness=thickness,
        # Predicted boxes are thinner as well as dashed, so they read as "less certain" at a glance.
        thin=max(1, thickness - 1),
        font_scale=font_scale,
        font_thickness=max(1, round(font_scale * 1.6)),
        pad=max(1, round(3 * scale)),
        dash=max(3, round(style.dash_length * scale)),
        radius=max(2, round(3 * style.line_width * scale)),
    )
