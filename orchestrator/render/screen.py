"""How big the display window may be: the screen's size where it can be asked, and frames fitted into it.

The window of ``--display`` shows frames scaled down (never up, aspect kept) to fit
`window_limit`: a share of the screen (``SCREEN_SHARE``, room for the title bar and a panel), or
`DEFAULT_WINDOW_LIMIT` where the screen's size is unknown. ``ORCHESTRATOR_DISPLAY_SIZE=WxH``
sets the limit instead. The screen is asked through Xlib (``libX11``, loaded with ctypes: no
Python dependency; on X11 and XWayland); with several monitors side by side X reports them as
one wide screen, and the height bound is what then keeps a frame within one of them.

Example:
    >>> fit_size((1920, 1080), (1280, 720))
    (1280, 720)
    >>> fit_size((640, 480), (1280, 720))
    (640, 480)
    >>> parse_size("1600x900", "ORCHESTRATOR_DISPLAY_SIZE")
    (1600, 900)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import sys

from orchestrator.errors import UserError

#: The window limit where the screen's size cannot be asked: a 720p window fits any laptop.
DEFAULT_WINDOW_LIMIT = (1280, 720)
#: The share of the screen's width and height a window may take (title bar, panels, a margin).
SCREEN_SHARE = (0.9, 0.85)
#: Environment variable with the window limit as ``WxH`` pixels (overrides the screen's size).
SIZE_VARIABLE = "ORCHESTRATOR_DISPLAY_SIZE"


def fit_size(frame_size: tuple[int, int], limit: tuple[int, int]) -> tuple[int, int]:
    """``frame_size`` ``(width, height)`` scaled down to fit ``limit`` (never up), aspect kept.

    Each side is at least 1 pixel. Raises `ValueError` when a size is not two positive integers.

    Example:
        >>> fit_size((3840, 1080), (1280, 720))
        (1280, 360)
    """
    for name, size in (("frame_size", frame_size), ("limit", limit)):
        if len(size) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in size):
            raise ValueError(f"{name} must be (width, height), two integers > 0, got {size!r}")
    width, height = frame_size
    scale = min(1.0, limit[0] / width, limit[1] / height)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def parse_size(text: str, where: str) -> tuple[int, int]:
    """``"WxH"`` as ``(width, height)`` pixels; `UserError` naming ``where`` and the value otherwise.

    Example:
        >>> parse_size("big", "SIZE")
        Traceback (most recent call last):
        ...
        orchestrator.errors.UserError: SIZE: expected WIDTHxHEIGHT in pixels (like 1280x720), got 'big'
    """
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if match is None or int(match[1]) <= 0 or int(match[2]) <= 0:
        raise UserError(f"{where}: expected WIDTHxHEIGHT in pixels (like 1280x720), got {text!r}")
    return int(match[1]), int(match[2])


def configured_limit() -> tuple[int, int] | None:
    """The window limit set in ``ORCHESTRATOR_DISPLAY_SIZE``, or None; `UserError` for a bad value."""
    text = os.environ.get(SIZE_VARIABLE, "").strip()
    return parse_size(text, SIZE_VARIABLE) if text else None


def screen_size() -> tuple[int, int] | None:
    """The default X screen's ``(width, height)`` in pixels, or None where it cannot be asked.

    Asked through ``libX11`` (ctypes), only when ``DISPLAY`` is set; no X library, no server, or
    another platform answers None. A server that is not there makes ``XOpenDisplay`` return NULL
    (no abort, unlike a GUI toolkit).
    """
    if sys.platform in ("win32", "darwin") or not os.environ.get("DISPLAY"):
        return None
    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    try:
        xlib = ctypes.CDLL(name)
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
        xlib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    display = xlib.XOpenDisplay(None)
    if not display:
        return None
    try:
        screen = xlib.XDefaultScreen(display)
        width, height = int(xlib.XDisplayWidth(display, screen)), int(xlib.XDisplayHeight(display, screen))
    finally:
        xlib.XCloseDisplay(display)
    return (width, height) if width > 0 and height > 0 else None


def window_limit(screen: tuple[int, int] | None) -> tuple[int, int]:
    """The largest window for a screen of ``screen`` pixels (`SCREEN_SHARE` of it), or the default when None.

    Example:
        >>> window_limit((1920, 1080)), window_limit(None)
        ((1728, 918), (1280, 720))
    """
    if screen is None:
        return DEFAULT_WINDOW_LIMIT
    return max(1, int(screen[0] * SCREEN_SHARE[0])), max(1, int(screen[1] * SCREEN_SHARE[1]))
