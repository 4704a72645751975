"""A window on screen: whether one can be opened (`display_available`), and `Display` to show frames in it.

Every OpenCV GUI call goes through one long-lived GUI thread (`_on_gui_thread`), whichever thread
asks: GUI toolkits bind windows to the thread of the first GUI call. The window fits the screen
(frames scaled down, aspect kept; see `orchestrator.render.screen`).

Example:
    >>> display = Display() if display_available() else None  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any, TypeVar

import cv2
import numpy as np

from orchestrator.render.screen import configured_limit, fit_size, screen_size, window_limit

_T = TypeVar("_T")


def _gui_backend_built() -> bool:
    """Whether this OpenCV build has a window backend (``opencv-python-headless`` has none)."""
    info = cv2.getBuildInformation()
    return re.search(r"^\s*(GTK\+?\d*|QT\d*|Win32 UI|Cocoa|Wayland)\s*:\s*YES", info, re.MULTILINE) is not None


def _display_server_reachable() -> bool:
    """Whether the X (or Wayland) server named by the environment accepts a connection.

    Checked with a plain socket *before* OpenCV touches the GUI: Qt aborts the whole process
    (no exception to catch) when ``DISPLAY`` names a server that is not there.
    """
    if sys.platform == "win32" or sys.platform == "darwin":
        return True  # native window systems: nothing to connect to
    display = os.environ.get("DISPLAY", "")
    match = re.fullmatch(r"(?:unix)?(?P<host>[^:]*):(?P<num>\d+)(?:\.\d+)?", display)
    if match:
        host, num = match["host"], int(match["num"])
        try:
            if host in ("", "unix"):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(1.0)
                    sock.connect(f"/tmp/.X11-unix/X{num}")
            else:
                with socket.create_connection((host, 6000 + num), timeout=1.0):
                    pass
            return True
        except OSError:
            pass
    wayland = os.environ.get("WAYLAND_DISPLAY", "")
    if wayland:
        runtime_dir = os.environ.get("XDG_RUNTIME_DIR", "")
        path = wayland if os.path.isabs(wayland) else os.path.join(runtime_dir, wayland)
        return os.path.exists(path)
    return False


# All highgui calls go through one long-lived thread. OpenCV's Qt backend binds the GUI to the thread
# of the first GUI call and marshals calls from any other thread to it with a *blocking* queued call:
# probing in the main thread and then showing from the render thread deadlocks (the main thread,
# joining the render thread, never pumps Qt events). One GUI thread, whoever calls, avoids that.
_GUI_LOCK = threading.Lock()
_GUI_EXECUTOR: ThreadPoolExecutor | None = None
#: How long `display_available` waits for its probe window before answering False.
_PROBE_TIMEOUT_S = 10.0


def _on_gui_thread(fn: Callable[..., _T], *args: Any, timeout: float | None = None) -> _T:
    """Run ``fn(*args)`` on the GUI thread and return its result (or raise its exception)."""
    global _GUI_EXECUTOR
    with _GUI_LOCK:
        if _GUI_EXECUTOR is None:
            # max_workers=1: one thread, started on first use and kept (idle workers never exit).
            _GUI_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orchestrator-gui")
        executor = _GUI_EXECUTOR
    return executor.submit(fn, *args).result(timeout=timeout)


def _probe_window() -> None:
    name = "orchestrator-display-probe"
    cv2.namedWindow(name, cv2.WINDOW_AUTOSIZE)
    cv2.waitKey(1)
    cv2.destroyWindow(name)
    cv2.waitKey(1)


def display_available() -> bool:
    """Whether a window can be opened: a reachable display, a GUI-enabled OpenCV, and a probe window.

    The probe opens and destroys a tiny window on the GUI thread (see `Display`); a ``cv2.error``
    or a probe that does not finish within 10 s answers False.

    Example:
        >>> display = Display() if display_available() else None  # doctest: +SKIP
    """
    if not _display_server_reachable() or not _gui_backend_built():
        return False
    try:
        _on_gui_thread(_probe_window, timeout=_PROBE_TIMEOUT_S)
    except (cv2.error, FuturesTimeout):
        return False
    return True


class Display:
    """A window showing rendered frames; `show` says whether the user wants to go on.

    The window fits the screen: a frame larger than ``max_size`` ``(width, height)`` is shown
    scaled down, aspect kept (`orchestrator.render.screen.fit_size`); a smaller one at its own
    size. ``max_size`` None: ``ORCHESTRATOR_DISPLAY_SIZE`` if set, else a share of the screen's
    size (asked once, on the first frame), else 1280x720 (`orchestrator.render.screen`). The
    user may resize the window; the picture keeps its aspect.

    Every OpenCV GUI call runs on one module-wide GUI thread, whichever thread calls `show` or
    `close` (GUI toolkits bind windows to one thread; see `_on_gui_thread`). The window is created
    on the first `show`. Linux (X11/Wayland) and Windows; macOS wants GUI calls on the main thread.
    Raises `UserError` when ``ORCHESTRATOR_DISPLAY_SIZE`` is not ``WIDTHxHEIGHT``.

    Example:
        >>> display = Display("hands", max_size=(1280, 720))  # doctest: +SKIP
        >>> while display.show(bgr):    # doctest: +SKIP
        ...     bgr = next_frame()
        >>> display.close()             # doctest: +SKIP
    """

    #: Keys that end the display: ``q`` and Esc.
    QUIT_KEYS = frozenset({ord("q"), ord("Q"), 27})

    def __init__(self, window_name: str = "orchestrator", max_size: tuple[int, int] | None = None) -> None:
        self.window_name = window_name
        #: The largest window, ``(width, height)`` pixels; None until the first frame when not given.
        self.max_size = max_size if max_size is not None else configured_limit()
        #: The window's size as last set, ``(width, height)`` pixels (None before the first frame).
        self.window_size: tuple[int, int] | None = None
        self._frame_size: tuple[int, int] | None = None
        self._opened = False
        self._check_visible = True
        self.frames_shown = 0

    def show(self, bgr: np.ndarray) -> bool:
        """Show one BGR frame; ``False`` when the user pressed ``q`` or Esc, or closed the window."""
        return _on_gui_thread(self._show, bgr)

    def close(self) -> None:
        """Destroy the window. Safe to call twice."""
        if self._opened:
            _on_gui_thread(self._close)

    def _show(self, bgr: np.ndarray) -> bool:
        if not self._opened:
            # NORMAL: the toolkit scales the picture to the window (KEEPRATIO: aspect kept);
            # GUI_NORMAL: no toolbar (Qt), so the window is the picture.
            cv2.namedWindow(self.window_name, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
            self._opened = True
        frame_size = (int(bgr.shape[1]), int(bgr.shape[0]))
        if frame_size != self._frame_size:  # the first frame, or a frame of another size (an image folder)
            if self.max_size is None:
                self.max_size = window_limit(screen_size())
            self.window_size = fit_size(frame_size, self.max_size)
            self._frame_size = frame_size
            cv2.resizeWindow(self.window_name, *self.window_size)
        cv2.imshow(self.window_name, bgr)
        key = cv2.waitKey(1)
        self.frames_shown += 1
        if key != -1 and (key & 0xFF) in self.QUIT_KEYS:
            return False
        try:
            visible = cv2.getWindowProperty(self.window_name, cv2.WND_PROP_VISIBLE)
        except cv2.error:
            return False  # the window is gone: closed by the user
        if self.frames_shown == 1 and visible < 1:
            # A backend that does not report visibility answers < 1 for a window it just showed:
            # do not take that for "closed" on every frame.
            self._check_visible = False
        return not (self._check_visible and visible < 1)

    def _close(self) -> None:
        if self._opened:
            self._opened = False
            with contextlib.suppress(cv2.error):  # already closed by the user
                cv2.destroyWindow(self.window_name)
                cv2.waitKey(1)  # let the toolkit process the destroy event
