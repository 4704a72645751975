"""`RateMeter`: no rate from the first frames, then frames per second over a sliding window."""

from __future__ import annotations

import pytest

from orchestrator.render.rate import RateMeter


def _last(meter: RateMeter, times: list[float]) -> float | None:
    rate = None
    for t in times:
        rate = meter.tick(t)
    return rate


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([0.0], None),  # one frame: no rate
        ([0.0, 0.001], None),  # two frames a millisecond apart (a buffered burst): not "1000 fps"
        ([i / 30 for i in range(9)], None),  # fewer than min_frames (10)
        ([i / 1000 for i in range(100)], None),  # 100 frames, but within 0.1 s: still measuring
        ([i / 30 for i in range(16)], 30.0),  # 0.5 s of 30 fps: measured
        ([0.0, *(5.0 + i / 10 for i in range(30))], 10.0),  # a slow first frame (models loading) is forgotten
        ([i / 30 for i in range(60)] + [2.0 + i / 10 for i in range(1, 31)], 10.0),  # slowed down: follows
    ],
)
def test_rate(times: list[float], expected: float | None) -> None:
    rate = _last(RateMeter(min_frames=10, min_span_s=0.5, window_s=2.0), times)
    assert rate == (None if expected is None else pytest.approx(expected, rel=0.02))


def test_memory_is_bounded_by_the_window() -> None:
    meter = RateMeter(window_s=1.0)
    _last(meter, [i / 100 for i in range(10_000)])
    assert len(meter._times) <= 102
    assert meter.rate == pytest.approx(100.0)


@pytest.mark.parametrize("kwargs", [{"min_frames": 1}, {"min_span_s": -1.0}, {"window_s": 0.0}])
def test_bad_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="need min_frames >= 2"):
        RateMeter(**kwargs)
