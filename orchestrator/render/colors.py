"""Colours of tracks and labels: deterministic per track id or per label, so a run looks the same every time.

Example:
    >>> track_color(1) == track_color(1), track_color(1) != track_color(1, "object")
    (True, True)
"""

from __future__ import annotations

import colorsys
import functools
import zlib

from orchestrator.render.style import DEFAULT_STYLE, Color, Style

#: 1 / golden ratio: consecutive ids get hues far apart, so neighbouring tracks never look alike.
_GOLDEN = 0.618033988749895


@functools.lru_cache(maxsize=4096)
def track_color(track_id: int, kind: str = "hand", style: Style = DEFAULT_STYLE) -> Color:
    """The BGR colour of a track: deterministic per id (and kind), spread around the hue circle.

    Hands and objects have separate id spaces, so object hues are offset by half a turn.

    Example:
        >>> track_color(1) == track_color(1), track_color(1) != track_color(2)
        (True, True)
    """
    hue = (track_id * _GOLDEN + (0.5 if kind != "hand" else 0.0)) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, style.saturation, style.value)
    return round(b * 255), round(g * 255), round(r * 255)


@functools.lru_cache(maxsize=1024)
def label_color(label: str, style: Style = DEFAULT_STYLE) -> Color:
    """The BGR colour of raw detections with this label (crc32: stable across runs, unlike ``hash``).

    Example:
        >>> label_color("cup") == label_color("cup")
        True
    """
    hue = (zlib.crc32(label.encode("utf-8")) & 0xFFFFFFFF) / 2**32
    r, g, b = colorsys.hsv_to_rgb(hue, style.saturation, style.value)
    return round(b * 255), round(g * 255), round(r * 255)


def text_color(background: Color) -> Color:
    """Black on light backgrounds, white on dark ones (Rec. 601 luma of a BGR colour).

    Example:
        >>> text_color((255, 255, 255)), text_color((0, 0, 0))
        ((0, 0, 0), (255, 255, 255))
    """
    b, g, r = background
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 140 else (255, 255, 255)
