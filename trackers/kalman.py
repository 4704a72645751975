"""Constant-velocity Kalman filter of one bounding box, on `filterpy.kalman.KalmanFilter`.

State (8 values, pixels and pixels per frame)::

    x = [cx, cy, w, h, vcx, vcy, vw, vh]

measurement ``z = [cx, cy, w, h]``, one `predict` per frame.

Design choices, and why:

* **Centre and size**, not SORT's area and aspect ratio: a box whose corners move linearly has a
  linearly moving centre *and size*, so a constant-velocity model over ``(cx, cy, w, h)`` represents
  it exactly, whereas its area would change quadratically.
* **Noise proportional to the box size** (``scale = sqrt(w * h)``): one set of parameters serves a
  hand filling the frame and one far away. ``measurement_noise`` is the standard deviation of a
  detected coordinate as a fraction of the scale; ``acceleration_noise`` is the standard deviation
  of the per-frame change of velocity as a fraction of the scale (per frame squared).
* **Two-point initialisation**: the first detection sets the position with zero velocity; the second
  sets position and velocity by differencing the two detections (with the matching covariance).
  This is what a Kalman filter with an infinitely wide velocity prior converges to, but exact: after
  two detections, noise-free linear motion gives zero innovations from then on, so predictions
  between detections (and through misses) follow it exactly.
* A predicted size never goes below 1 px: a shrinking box extrapolated through a long miss would
  otherwise invert. The size velocity is then stopped, not reversed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from filterpy.kalman import KalmanFilter

_MIN_SIZE = 1.0
#: Coasting boxes stay within this factor of their last observed width and height.
_MAX_SIZE_CHANGE = 2.0
# One-frame transition and measurement matrices (built once; filterpy only reads them).
_F = np.eye(8)
_F[:4, 4:] = np.eye(4)
_H = np.hstack([np.eye(4), np.zeros((4, 4))])
# Piecewise-constant white acceleration over one frame: G = [1/2, 1] per coordinate, Q = G G^T sigma^2.
_Q_UNIT = np.kron(np.array([[0.25, 0.5], [0.5, 1.0]]), np.eye(4))


def box_to_z(box: Sequence[float]) -> np.ndarray:
    """``x1, y1, x2, y2`` → measurement column ``[cx, cy, w, h]`` (float64, shape (4, 1))."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([[(x1 + x2) / 2.0], [(y1 + y2) / 2.0], [x2 - x1], [y2 - y1]])


def z_to_box(z: np.ndarray) -> tuple[float, float, float, float]:
    """First four state values ``[cx, cy, w, h]`` → ``(x1, y1, x2, y2)``."""
    cx, cy, w, h = (float(v) for v in np.asarray(z).reshape(-1)[:4])
    return (cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)


def _scale(z: np.ndarray) -> float:
    return math.sqrt(max(float(z[2, 0]), _MIN_SIZE) * max(float(z[3, 0]), _MIN_SIZE))


@dataclass(frozen=True)
class KalmanSnapshot:
    """Everything needed to restore a `BoxKalmanFilter` (used by the tracker's rollback)."""

    x: np.ndarray
    P: np.ndarray
    updates: int
    frames_since_update: int
    last_z: np.ndarray


class BoxKalmanFilter:
    """Constant-velocity Kalman filter of one box.

    Example:
        >>> kf = BoxKalmanFilter((0, 0, 10, 20))
        >>> kf.predict(); kf.update((2, 0, 12, 20))    # 2 px/frame to the right
        >>> kf.predict(); [round(v, 6) for v in kf.box]
        [4.0, 0.0, 14.0, 20.0]
    """

    def __init__(
        self,
        box: Sequence[float],
        *,
        measurement_noise: float = 0.05,
        acceleration_noise: float = 0.02,
    ) -> None:
        self.measurement_noise = float(measurement_noise)
        self.acceleration_noise = float(acceleration_noise)
        z = box_to_z(box)
        self._kf = self._make_filter()
        self._kf.x[:4] = z
        var_z = (self.measurement_noise * _scale(z)) ** 2
        # Velocity unknown until the second detection: one box size per frame covers any real motion.
        self._kf.P = np.diag([var_z] * 4 + [_scale(z) ** 2] * 4)
        self.updates = 1
        self.frames_since_update = 0
        self._last_z = z

    @staticmethod
    def _make_filter() -> KalmanFilter:
        kf = KalmanFilter(dim_x=8, dim_z=4)
        kf.F = _F
        kf.H = _H
        return kf

    # ------------------------------------------------------------------ filter steps
    def predict(self) -> None:
        """Advance the state by one frame."""
        sigma_a = self.acceleration_noise * _scale(self._kf.x)
        self._kf.predict(Q=_Q_UNIT * sigma_a**2)
        x = self._kf.x
        for size, rate in ((2, 6), (3, 7)):
            # While coasting, a size velocity estimated from two noisy boxes would shrink (or blow
            # up) the box over many frames; keep it within a factor of 2 of the last observed size.
            observed = float(self._last_z[size, 0])
            low, high = max(_MIN_SIZE, observed / _MAX_SIZE_CHANGE), max(_MIN_SIZE, observed * _MAX_SIZE_CHANGE)
            if x[size, 0] < low or x[size, 0] > high:
                x[size, 0] = min(max(x[size, 0], low), high)
                x[rate, 0] = 0.0
        self.frames_since_update += 1

    def update(self, box: Sequence[float]) -> None:
        """Correct the state with a detected box on the current frame."""
        z = box_to_z(box)
        var_z = (self.measurement_noise * _scale(z)) ** 2
        dt = self.frames_since_update
        if self.updates == 1 and dt > 0:
            # Two-point initialisation: p = z2, v = (z2 - z1) / dt, with their exact covariance.
            var_prev = (self.measurement_noise * _scale(self._last_z)) ** 2
            self._kf.x = np.vstack([z, (z - self._last_z) / dt])
            block = np.array([[var_z, var_z / dt], [var_z / dt, (var_z + var_prev) / dt**2]])
            self._kf.P = np.kron(block, np.eye(4))
        else:
            self._kf.update(z, R=np.eye(4) * var_z)
        self.updates += 1
        self.frames_since_update = 0
        self._last_z = z

    def scale_velocity(self, factor: float) -> None:
        """Multiply the velocity estimate (centre and size) by ``factor``; 0 stops the box.

        The tracker damps the velocity of a lost track with it: after a miss the last velocity
        is less and less likely to still hold. The covariance is left as it is.

        Example:
            >>> kf = BoxKalmanFilter((0, 0, 10, 20))
            >>> kf.predict(); kf.update((4, 0, 14, 20))
            >>> kf.scale_velocity(0.5); kf.velocity
            (2.0, 0.0, 0.0, 0.0)
        """
        self._kf.x[4:] *= float(factor)

    # ------------------------------------------------------------------ views
    @property
    def box(self) -> tuple[float, float, float, float]:
        """Current box estimate ``(x1, y1, x2, y2)``."""
        return z_to_box(self._kf.x)

    @property
    def velocity(self) -> tuple[float, float, float, float]:
        """Current ``(vcx, vcy, vw, vh)`` in pixels per frame."""
        return tuple(float(v) for v in self._kf.x[4:, 0])  # type: ignore[return-value]

    def snapshot(self) -> KalmanSnapshot:
        """A copy of the filter's state."""
        return KalmanSnapshot(
            self._kf.x.copy(), self._kf.P.copy(), self.updates, self.frames_since_update, self._last_z
        )

    @classmethod
    def restore(
        cls, snapshot: KalmanSnapshot, *, measurement_noise: float, acceleration_noise: float
    ) -> BoxKalmanFilter:
        """A filter in the state of ``snapshot``."""
        kf = cls.__new__(cls)
        kf.measurement_noise = float(measurement_noise)
        kf.acceleration_noise = float(acceleration_noise)
        kf._kf = cls._make_filter()
        kf._kf.x = snapshot.x.copy()
        kf._kf.P = snapshot.P.copy()
        kf.updates = snapshot.updates
        kf.frames_since_update = snapshot.frames_since_update
        kf._last_z = snapshot.last_z  # never mutated in place, safe to share
        return kf
