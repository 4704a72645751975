"""Rendering overlays, the video writer, the display and the render thread (offline, headless)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from detectors.detections import Detections
from orchestrator.errors import PipelineError, UserError
from orchestrator.render import (
    Display,
    FrameView,
    RenderWorker,
    Style,
    VideoOut,
    display_available,
    label_color,
    render,
    track_color,
)
from orchestrator.render import display as display_module
from orchestrator.scene import ActiveRelation, Scene
from trackers.track import Track

REPO = Path(__file__).resolve().parents[2]
BACKGROUND_RGB = (70, 60, 50)
BACKGROUND_BGR = BACKGROUND_RGB[::-1]
NO_HUD = Style(show_hud=False)


def frame(width: int = 320, height: int = 240, rgb: tuple[int, int, int] = BACKGROUND_RGB) -> np.ndarray:
    image = np.empty((height, width, 3), np.uint8)
    image[:] = rgb
    return image


def hand(track_id: int, box: tuple[float, float, float, float], predicted: bool = False) -> Track:
    if predicted:
        return Track(track_id, box, 0.9, "hand", 0, box_source="predicted", frames_since_observed=2, age_frames=4)
    return Track(track_id, box, 0.9, "hand", 0)


def cup(track_id: int, box: tuple[float, float, float, float]) -> Track:
    return Track(track_id, box, 0.6, "cup", 41)


def view(
    rgb: np.ndarray,
    frame_index: int = 0,
    time_s: float = 0.0,
    *,
    fps: float | None = None,
    tracked_detectors: frozenset[str] = frozenset(),
    **scene: Any,
) -> FrameView:
    """The view of ``rgb`` with a scene of its size (``scene``: `Scene` fields)."""
    height, width = rgb.shape[:2]
    return FrameView(Scene(frame_index, time_s, (width, height), **scene), rgb, fps, tracked_detectors)


def px(image: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in image[y, x])


# --------------------------------------------------------------------------- render
def test_hand_box_outline_has_track_colour_and_inside_is_unchanged() -> None:
    out = render(view(frame(), hands=(hand(3, (100, 80, 200, 180)),)), NO_HUD)
    colour = track_color(3, "hand")
    assert px(out, 100, 130) == colour  # left edge, half way down
    assert px(out, 200, 130) == colour  # right edge
    assert px(out, 150, 180) == colour  # bottom edge
    assert px(out, 150, 140) == BACKGROUND_BGR  # inside, far from edges and the label
    assert px(out, 20, 200) == BACKGROUND_BGR  # outside
    # The label sits on the top edge, above the box, in the track's colour.
    assert (out[70:80, 100:130] == colour).all(axis=2).any()


def test_output_is_a_new_bgr_image_and_the_source_is_untouched() -> None:
    rgb = frame()
    rgb[200:220, 280:300] = (255, 0, 0)  # red, in RGB
    before = rgb.copy()
    hand_track, cup_track = hand(1, (10, 10, 100, 100)), cup(2, (150, 50, 250, 150))
    shown = view(
        rgb,
        hands=(hand_track,),
        objects=(cup_track,),
        relations=(ActiveRelation("holding", hand_track, cup_track),),
        fps=30.0,
        staleness_frames={"hands": 0},
    )
    out = render(shown)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    assert px(out, 290, 210) == (0, 0, 255)  # still red once shown: channels swapped to BGR
    assert not np.shares_memory(out, rgb)
    np.testing.assert_array_equal(rgb, before)
    assert rgb.flags.writeable  # the caller's array keeps its flags; the view holds a read-only view
    assert not shown.rgb.flags.writeable


def test_predicted_box_is_dashed_and_observed_box_is_solid() -> None:
    box = (60, 60, 260, 200)
    observed = render(view(frame(), hands=(hand(1, box),)), NO_HUD)
    predicted = render(view(frame(), hands=(hand(1, box, predicted=True),)), NO_HUD)
    colour = np.array(track_color(1, "hand"))
    # The left edge below the label: every pixel coloured when observed, gaps when predicted.
    solid = (observed[80:195, 60] == colour).all(axis=1)
    dashed = (predicted[80:195, 60] == colour).all(axis=1)
    assert solid.all()
    assert 0.25 < dashed.mean() < 0.75
    assert (predicted[80:195, 60] == BACKGROUND_BGR).all(axis=1).any()


def test_relation_line_runs_through_the_midpoint_between_the_box_centres() -> None:
    hand_box, object_box = (20, 100, 80, 180), (200, 40, 280, 120)  # centres (50, 140) and (240, 80)
    hand_track, cup_track = hand(1, hand_box), cup(2, object_box)
    relation = ActiveRelation("holding", hand_track, cup_track)
    style = Style(show_hud=False, relation_color=(10, 200, 250))
    out = render(view(frame(), hands=(hand_track,), objects=(cup_track,), relations=(relation,)), style)
    assert px(out, 145, 110) == style.relation_color  # the midpoint
    assert px(out, 50, 140) == style.relation_color  # both ends
    assert px(out, 240, 80) == style.relation_color
    assert px(out, 145, 200) == BACKGROUND_BGR  # well off the line


def test_objects_tracks_and_untracked_raw_detections() -> None:
    detections = {
        "hands": Detections.from_lists([[20, 120, 80, 200]], [0.8], [0], ["hand"]),  # tracked: not drawn again
        "coco": Detections.from_lists([[200, 120, 300, 220]], [0.42], [3], ["cup"]),
    }
    objects = (Track(7, (120, 40, 180, 100), 0.55, "phone", 1),)
    out = render(view(frame(), objects=objects, detections=detections, tracked_detectors={"hands"}), NO_HUD)
    assert px(out, 120, 70) == track_color(7, "object")
    assert px(out, 200, 170) == label_color("cup")
    assert px(out, 20, 170) == BACKGROUND_BGR


def test_colours_are_deterministic_and_distinct() -> None:
    assert track_color(4) == track_color(4)
    assert len({track_color(i) for i in range(1, 30)}) == 29
    assert track_color(1, "hand") != track_color(1, "object")
    assert label_color("cup") == label_color("cup") != label_color("phone")


def test_hud_shows_staleness_and_marks_stale_detectors() -> None:
    def hud(stale: int) -> np.ndarray:
        shown = view(frame(640, 480), 5, 0.2, fps=29.5, staleness_frames={"hands": 0, "objects": stale})
        return render(shown)[:80, :240].astype(int)

    orange = np.array(Style().hud_stale_color)
    near_orange = lambda patch: (np.abs(patch - orange).max(axis=2) < 40).any()  # noqa: E731
    assert near_orange(hud(30))
    assert not near_orange(hud(2))
    assert (hud(2) != BACKGROUND_BGR).any(axis=2).any()


def test_widths_scale_with_the_image() -> None:
    def edge_width(width: int, height: int) -> int:
        box = (width * 0.3, height * 0.3, width * 0.7, height * 0.7)
        out = render(view(frame(width, height), hands=(hand(1, box),)), NO_HUD)
        row = out[height // 2, : width // 2]
        return int((row == track_color(1)).all(axis=1).sum())

    assert edge_width(320, 240) == 1
    assert edge_width(1920, 1080) >= 3


def test_boxes_far_outside_the_frame_do_not_fail() -> None:
    wide, tiny = hand(3, (-1e12, 0, 1e12, 10)), cup(2, (5, 5, 6, 6))
    tracks = (hand(1, (-1e12, -5, 1e12, 1e9), predicted=True), hand(2, (400, 300, 500, 400)), wide)
    relation = ActiveRelation("near", wide, tiny)
    out = render(view(frame(), hands=tracks, objects=(tiny,), relations=(relation,)))
    assert out.shape == (240, 320, 3)


def test_frame_view_rejects_a_non_rgb_array() -> None:
    with pytest.raises(ValueError, match="uint8"):
        FrameView(Scene(0, 0.0, (10, 10)), np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="scene's frame is 10x10"):
        FrameView(Scene(0, 0.0, (10, 10)), np.zeros((10, 12, 3), np.uint8))


# --------------------------------------------------------------------------- VideoOut
@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_video_out_writes_every_frame(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    with VideoOut(path, 25.0, (320, 240)) as video:
        for i in range(7):
            video.write(frame(rgb=(i * 30, 100, 200)))
    assert video.frames_written == 7
    capture = cv2.VideoCapture(str(path))
    try:
        assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (320, 240)
        count = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            assert image.shape == (240, 320, 3)
            count += 1
    finally:
        capture.release()
    assert count == 7


def test_video_out_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "out.mp4"
    with pytest.raises(UserError, match="nowhere"):
        VideoOut(missing, 30.0, (320, 240))
    with pytest.raises(UserError, match=r"out\.mkv"):
        VideoOut(tmp_path / "out.mkv", 30.0, (320, 240))
    (tmp_path / "taken.avi").mkdir()  # a folder where the file should go: the writer cannot open it
    with pytest.raises(UserError, match=r"taken\.avi"):
        VideoOut(tmp_path / "taken.avi", 30.0, (320, 240))
    with pytest.raises(UserError, match="fps"):
        VideoOut(tmp_path / "out.avi", 0, (320, 240))


def test_video_out_refuses_a_frame_of_another_size(tmp_path: Path) -> None:
    video = VideoOut(tmp_path / "out.avi", 30.0, (320, 240))
    with pytest.raises(ValueError, match="240, 320, 3"):
        video.write(frame(640, 480))
    video.close()
    video.close()
    with pytest.raises(ValueError, match="after close"):
        video.write(frame())


# --------------------------------------------------------------------------- RenderWorker
class SlowSink:
    """Records the frame index (encoded in pixel 0, 0) of each frame written; optionally slow or failing."""

    def __init__(self, delay_s: float = 0.0, fail_at: int | None = None) -> None:
        self.delay_s = delay_s
        self.fail_at = fail_at
        self.indices: list[int] = []
        self.closed = False

    def write(self, bgr: np.ndarray) -> None:
        if self.fail_at is not None and len(self.indices) == self.fail_at:
            raise OSError("disk full")
        time.sleep(self.delay_s)
        self.indices.append(int(bgr[0, 0, 0]))

    def close(self) -> None:
        self.closed = True


def numbered(i: int) -> FrameView:
    return view(frame(64, 48, rgb=(i, i, i)), i, i / 30.0)


def test_worker_blocking_mode_writes_every_frame_in_order() -> None:
    sink = SlowSink(delay_s=0.005)
    worker = RenderWorker(sinks=[sink], maxsize=2, style=NO_HUD)
    for i in range(12):
        worker.submit(numbered(i))
    worker.close()
    assert sink.indices == list(range(12))
    assert sink.closed
    assert worker.dropped == 0 and worker.peak_queued <= 2
    stats = worker.stats()
    assert stats["frames"] == 12 and stats["render_p50_ms"] is not None and stats["render_p95_ms"] >= 0


def test_worker_drop_mode_drops_the_oldest_and_counts() -> None:
    sink = SlowSink(delay_s=0.03)
    worker = RenderWorker(sinks=[sink], drop_when_full=True, maxsize=2, style=NO_HUD)
    for i in range(20):
        worker.submit(numbered(i))  # never waits
    worker.close()
    assert worker.dropped > 0
    assert len(sink.indices) + worker.dropped == 20
    assert sink.indices == sorted(sink.indices) and sink.indices[-1] == 19  # the newest is never dropped


def test_worker_failure_surfaces_from_submit() -> None:
    sink = SlowSink(fail_at=1)
    worker = RenderWorker(sinks=[sink], style=NO_HUD)
    with pytest.raises(PipelineError, match=r"renderer failed on frame 1: OSError: disk full"):
        for i in range(200):
            worker.submit(numbered(i))
            time.sleep(0.01)
    worker.close()  # already reported: not raised twice
    assert sink.closed


def test_worker_failure_surfaces_from_close() -> None:
    sink = SlowSink(fail_at=0)
    worker = RenderWorker(sinks=[sink], style=NO_HUD)
    worker.submit(numbered(0))
    with pytest.raises(PipelineError, match="renderer"):
        worker.close()
    with pytest.raises(RuntimeError, match="after close"):
        worker.submit(numbered(1))


def test_worker_writes_a_readable_video(tmp_path: Path) -> None:
    path = tmp_path / "overlay.avi"
    with RenderWorker(sinks=[VideoOut(path, 30.0, (64, 48))]) as worker:
        for i in range(5):
            worker.submit(numbered(i))
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == 5


class FakeDisplay(Display):
    """Answers "quit" on the given call; records calls (no window)."""

    def __init__(self, quit_on: int) -> None:
        super().__init__()
        self.quit_on = quit_on
        self.calls = 0
        self.close_calls = 0
        self.thread: str | None = None

    def show(self, bgr: np.ndarray) -> bool:
        self.calls += 1
        self.thread = threading.current_thread().name
        return self.calls < self.quit_on

    def close(self) -> None:
        self.close_calls += 1


def test_worker_quit_requested_when_the_display_says_so() -> None:
    sink, display = SlowSink(), FakeDisplay(quit_on=2)
    worker = RenderWorker(sinks=[sink], display=display, style=NO_HUD)
    for i in range(5):
        worker.submit(numbered(i))
    worker.close()
    assert worker.quit_requested
    assert display.calls == 2 and display.close_calls >= 1
    assert display.thread == "renderer"  # GUI calls stay in the render thread
    assert sink.indices == list(range(5))  # the video still gets every frame


# --------------------------------------------------------------------------- Display
def test_display_show_answers_false_on_q_escape_and_closed_window(monkeypatch: pytest.MonkeyPatch) -> None:
    state = {"key": -1, "visible": 1.0, "destroyed": 0}
    monkeypatch.setattr(display_module.cv2, "namedWindow", lambda *a: None)
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
_SHOW_SCRIPT = """
import numpy as np
from orchestrator.render import Display, FrameView, RenderWorker, display_available
from orchestrator.scene import Scene
assert display_available(), "display_available() is False"
display = Display("orchestrator-test")
shown = [display.show(np.full((120, 160, 3), 40 * i, np.uint8)) for i in range(3)]
display.close()
with RenderWorker(display=Display("orchestrator-worker")) as worker:
    for i in range(3):
        worker.submit(FrameView(Scene(i, 0.0, (160, 120)), np.zeros((120, 160, 3), np.uint8)))
print("shown", shown, worker.frames_rendered)
"""


def _free_x_display() -> int:
    for number in range(99, 160):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    pytest.skip("no free X display number for Xvfb")


def test_display_shows_frames_in_a_real_window() -> None:
    env = dict(os.environ)
    xvfb: subprocess.Popen[bytes] | None = None
    if not display_available():
        if shutil.which("Xvfb") is None:
            pytest.skip("no GUI display (DISPLAY unset or unreachable, or OpenCV without GTK/Qt) and no Xvfb installed")
        if not display_module._gui_backend_built():
            pytest.skip("OpenCV was built without a GUI backend (GTK/Qt)")
        number = _free_x_display()
        xvfb = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", "640x480x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env["DISPLAY"] = f":{number}"
        env.pop("WAYLAND_DISPLAY", None)
    try:
        # A subprocess: a GUI toolkit that misbehaves (or aborts) must not take pytest down with it.
        result = subprocess.run(
            [sys.executable, "-c", _SHOW_SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        if xvfb is not None:
            xvfb.terminate()
            try:
                xvfb.wait(timeout=10)
            except subprocess.TimeoutExpired:
                xvfb.kill()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "shown [True, True, True] 3" in result.stdout


def test_relations_on_one_pair_share_one_label() -> None:
    # Two relations on the same hand-object pair draw exactly what one relation named "a, b" draws.
    image = np.zeros((240, 320, 3), np.uint8)
    hand_track, cup_track = hand(1, (20.0, 20.0, 100.0, 120.0)), cup(2, (200.0, 100.0, 260.0, 180.0))

    def related(*names: str) -> FrameView:
        relations = tuple(ActiveRelation(name, hand_track, cup_track) for name in names)
        return view(image, hands=(hand_track,), objects=(cup_track,), relations=relations)

    two, joined, only_a = related("a", "b"), related("a, b"), related("a")
    assert np.array_equal(render(two), render(joined))
    assert not np.array_equal(render(two), render(only_a))
