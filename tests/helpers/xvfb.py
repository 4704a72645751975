"""A display for the tests that open windows: the one there is, or a private Xvfb server (skipping without either)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestrator.render import display as display_module
from orchestrator.render import display_available

#: The private server's screen, ``(width, height)`` pixels.
XVFB_SCREEN = (640, 480)


def _free_x_display() -> int:
    for number in range(99, 160):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    pytest.skip("no free X display number for Xvfb")


@contextmanager
def gui_environment() -> Iterator[tuple[dict[str, str], tuple[int, int] | None]]:
    """``(env, screen)``: an environment for a subprocess that opens windows, and the screen's size
    when it is the private Xvfb's (None: the display already there, of unknown size).

    Skips the test when there is no display and no Xvfb, or OpenCV has no GUI backend.
    """
    env = dict(os.environ)
    env.pop("ORCHESTRATOR_DISPLAY_SIZE", None)  # the window limit comes from the screen
    if display_available():
        yield env, None
        return
    if shutil.which("Xvfb") is None:
        pytest.skip("no GUI display (DISPLAY unset or unreachable, or OpenCV without GTK/Qt) and no Xvfb installed")
    if not display_module._gui_backend_built():
        pytest.skip("OpenCV was built without a GUI backend (GTK/Qt)")
    number = _free_x_display()
    width, height = XVFB_SCREEN
    xvfb = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env["DISPLAY"] = f":{number}"
        env.pop("WAYLAND_DISPLAY", None)
        yield env, XVFB_SCREEN
    finally:
        xvfb.terminate()
        try:
            xvfb.wait(timeout=10)
        except subprocess.TimeoutExpired:
            xvfb.kill()
