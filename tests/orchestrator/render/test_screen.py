"""The display window's size: frames fitted into a limit (down, never up, aspect kept), the limit from the screen."""

from __future__ import annotations

import pytest

from orchestrator.render.screen import DEFAULT_WINDOW_LIMIT, fit_size, screen_size, window_limit


@pytest.mark.parametrize(
    ("frame_size", "limit", "expected"),
    [
        ((1920, 1080), (1280, 720), (1280, 720)),  # same aspect: exactly the limit
        ((1920, 1080), (1728, 918), (1632, 918)),  # a 1080p screen's limit: the height binds
        ((3840, 2160), (1280, 720), (1280, 720)),
        ((1080, 1920), (1280, 720), (405, 720)),  # portrait: the height binds
        ((3840, 1080), (1280, 720), (1280, 360)),  # very wide: the width binds
        ((640, 480), (1280, 720), (640, 480)),  # smaller than the limit: never scaled up
        ((1280, 720), (1280, 720), (1280, 720)),
        ((1281, 721), (1280, 720), (1279, 720)),  # the tighter side binds, the other rounds
        ((5000, 1), (1000, 1000), (1000, 1)),  # a side never goes below 1 pixel
    ],
)
def test_fit_size(frame_size: tuple[int, int], limit: tuple[int, int], expected: tuple[int, int]) -> None:
    fitted = fit_size(frame_size, limit)
    assert fitted == expected
    assert fitted[0] <= max(limit[0], 1) and fitted[1] <= max(limit[1], 1)


@pytest.mark.parametrize("bad", [(0, 10), (10,), (10.5, 10), (True, 10)])
def test_fit_size_rejects_bad_sizes(bad: tuple) -> None:
    with pytest.raises(ValueError, match="frame_size must be \\(width, height\\)"):
        fit_size(bad, (100, 100))


@pytest.mark.parametrize(
    ("screen", "expected"),
    [((1920, 1080), (1728, 918)), ((1366, 768), (1229, 652)), ((640, 480), (576, 408)), (None, DEFAULT_WINDOW_LIMIT)],
)
def test_window_limit(screen: tuple[int, int] | None, expected: tuple[int, int]) -> None:
    assert window_limit(screen) == expected


def test_screen_size_is_unknown_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert screen_size() is None
    # A DISPLAY naming no server: Xlib answers NULL, which is "unknown", not a crash.
    monkeypatch.setenv("DISPLAY", ":4321")
    assert screen_size() is None
