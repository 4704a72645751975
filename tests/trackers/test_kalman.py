"""The constant-velocity box Kalman filter: exact linear prediction, smoothing, snapshots."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.tracker_scenarios import linear_box, max_abs_error

from trackers.kalman import BoxKalmanFilter


# ----------------------------------------------------------------------------- Kalman filter
@pytest.mark.parametrize("dt", [1, 2, 3, 7])
def test_two_point_start_then_exact_linear_prediction(dt: int) -> None:
    def truth(f: int):
        return linear_box(f, 400, 300, 100, 150, 3.5, -2, 0.5, 1)

    kf = BoxKalmanFilter(truth(0))
    assert kf.box == pytest.approx(truth(0))
    for _ in range(dt):
        kf.predict()
    assert kf.box == pytest.approx(truth(0))  # velocity unknown until the second detection
    kf.update(truth(dt))
    assert kf.velocity == pytest.approx((3.5, -2, 0.5, 1))
    for f in range(dt + 1, dt + 40):
        kf.predict()
        assert max_abs_error(kf.box, truth(f)) < 1e-6
        if f % 4 == 0:
            kf.update(truth(f))


def test_shrinking_box_never_inverts() -> None:
    kf = BoxKalmanFilter((0, 0, 20, 20))
    kf.predict()
    kf.update((0, 0, 10, 10))  # shrinking 10 px/frame (and centre moving)
    for _ in range(5):
        kf.predict()
        x1, y1, x2, y2 = kf.box
        assert x2 - x1 >= 1.0 - 1e-9 and y2 - y1 >= 1.0 - 1e-9
    assert kf.velocity[2:] == (0.0, 0.0)


def test_noisy_measurements_are_smoothed() -> None:
    rng = np.random.default_rng(0)

    def truth(f: int):
        return linear_box(f, 400, 300, 100, 100, 2, 0)

    kf = BoxKalmanFilter(truth(0))
    errors_raw, errors_kf = [], []
    for f in range(1, 200):
        kf.predict()
        noisy = np.asarray(truth(f)) + rng.normal(0, 3.0, 4)
        kf.update(noisy)
        if f > 20:
            errors_raw.append(max_abs_error(noisy, truth(f)))
            errors_kf.append(max_abs_error(kf.box, truth(f)))
    assert np.mean(errors_kf) < 0.8 * np.mean(errors_raw)


def test_snapshot_restore_round_trip() -> None:
    kf = BoxKalmanFilter((0, 0, 10, 10), measurement_noise=0.1, acceleration_noise=0.05)
    kf.predict()
    kf.update((2, 1, 12, 11))
    snap = kf.snapshot()
    copy = BoxKalmanFilter.restore(snap, measurement_noise=0.1, acceleration_noise=0.05)
    for f in range(3):
        kf.predict()
        copy.predict()
        kf.update((4 + 2 * f, 2, 14 + 2 * f, 12))
        copy.update((4 + 2 * f, 2, 14 + 2 * f, 12))
    assert kf.box == copy.box and kf.velocity == copy.velocity
    assert BoxKalmanFilter.restore(snap, measurement_noise=0.1, acceleration_noise=0.05).box == pytest.approx(
        (2, 1, 12, 11)
    )
