"""`Display`: keys, availability probing, and a real window under Xvfb."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.paths import REPO_ROOT as REPO
from helpers.render_views import frame
from helpers.xvfb import gui_environment

from orchestrator.errors import UserError
from orchestrator.render import (
    Display,
    display_available,
)
from orchestrator.render import display as display_module


# --------------------------------------------------------------------------- Display
def test_display_show_answers_false_on_q_escape_and_closed_window(monkeypatch: pytest.MonkeyPatch) -> None:
    state = {"key": -1, "visible": 1.0, "destroyed": 0}
    monkeypatch.setattr(display_module.cv2, "namedWindow", lambda *a: None)
    monkeypatch.setattr(display_module.cv2, "resizeWindow", lambda *a: None)
    monkeypatch.setattr(display_module.cv2, "imshow", lambda *a: None)
    monkeypatch.setattr(display_module.cv2, "waitKey", lambda delay: state["key"])
    monkeypatch.setattr(display_module.cv2, "getWindowProperty", lambda *a: state["visible"])
    monkeypatch.setattr(
        display_module.cv2, "destroyWindow", lambda name: state.update(destroyed=state["destroyed"] + 1)
    )
    display = Display("test")
    image = frame()
    assert display.show(image)
    state["key"] = ord("q")
    assert not display.show(image)
    state["key"] = 27  # Esc
    assert not display.show(image)
    state["key"], state["visible"] = -1, 0.0  # the user closed the window
    assert not display.show(image)
    display.close()
    display.close()
    assert state["destroyed"] == 1


def test_display_window_is_the_frame_scaled_down_to_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[tuple[int, int]] = []
    monkeypatch.setattr(display_module.cv2, "namedWindow", lambda *a: None)
    monkeypatch.setattr(display_module.cv2, "resizeWindow", lambda name, w, h: sizes.append((w, h)))
    monkeypatch.setattr(display_module.cv2, "imshow", lambda *a: None)
    monkeypatch.setattr(display_module.cv2, "waitKey", lambda delay: -1)
    monkeypatch.setattr(display_module.cv2, "getWindowProperty", lambda *a: 1.0)
    monkeypatch.setattr(display_module.cv2, "destroyWindow", lambda name: None)
    display = Display("test", max_size=(320, 240))
    for width, height in [(640, 360), (640, 360), (160, 120), (1000, 2000)]:
        assert display.show(frame(width, height))
    display.close()
    # Resized on the first frame and whenever the frame's size changes: down to fit, never up.
    assert sizes == [(320, 180), (160, 120), (120, 240)]
    assert display.window_size == (120, 240)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1600x900", (1600, 900)), (" 800 X 600 ", (800, 600)), ("", None), ("big", "big"), ("0x100", "0x100")],
)
def test_display_size_variable(monkeypatch: pytest.MonkeyPatch, value: str, expected: object) -> None:
    monkeypatch.setenv("ORCHESTRATOR_DISPLAY_SIZE", value)
    if isinstance(expected, str):
        with pytest.raises(UserError, match=f"ORCHESTRATOR_DISPLAY_SIZE: expected WIDTHxHEIGHT .* got '{expected}'"):
            Display("test")
    else:
        assert Display("test").max_size == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland environment checks are Linux-only")
def test_display_not_available_without_a_reachable_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert not display_available()
    # A DISPLAY naming no server must answer False, not abort the process (as Qt would).
    monkeypatch.setenv("DISPLAY", ":4321")
    assert not display_available()


# The probe and the first window in the main thread, then a window from the render thread: with Qt
# this deadlocked before every GUI call was routed through one GUI thread.
# Then a frame larger than the screen: the window is scaled down to fit it (under the test's own
# Xvfb the screen is known: 640x480, so the window may be at most 576x408).
_SHOW_SCRIPT = """
import os, cv2
import numpy as np
from orchestrator.render import Display, FrameView, RenderWorker, display_available
from orchestrator.render.display import _on_gui_thread
from orchestrator.render.screen import fit_size, screen_size, window_limit
from orchestrator.scene import Scene
assert display_available(), "display_available() is False"
display = Display("orchestrator-test")
shown = [display.show(np.full((120, 160, 3), 40 * i, np.uint8)) for i in range(3)]
assert display.window_size == (160, 120), display.window_size
screen = screen_size()
if os.environ.get("TEST_SCREEN"):
    assert screen == tuple(map(int, os.environ["TEST_SCREEN"].split("x"))), screen
big = np.zeros((1200, 1600, 3), np.uint8)
shown.append(display.show(big))
limit = window_limit(screen)
assert display.window_size == fit_size((1600, 1200), limit), (display.window_size, limit)
x, y, width, height = _on_gui_thread(cv2.getWindowImageRect, "orchestrator-test")
assert 0 < width <= limit[0] and 0 < height <= limit[1], ("window", width, height, "limit", limit)
print("window", width, height, "screen", screen)
display.close()
with RenderWorker(display=Display("orchestrator-worker")) as worker:
    for i in range(3):
        worker.submit(FrameView(Scene(i, 0.0, (160, 120)), np.zeros((120, 160, 3), np.uint8)))
print("shown", shown, worker.frames_rendered)
"""


def test_display_shows_frames_in_a_real_window() -> None:
    with gui_environment() as (env, screen):
        if screen is not None:
            env["TEST_SCREEN"] = "x".join(map(str, screen))
        # A subprocess: a GUI toolkit that misbehaves (or aborts) must not take pytest down with it.
        result = subprocess.run(
            [sys.executable, "-c", _SHOW_SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "shown [True, True, True, True] 3" in result.stdout, result.stdout + result.stderr[-2000:]
