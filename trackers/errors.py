"""Exceptions of the tracker library, rooted in `TrackerError`.

Each also subclasses `ValueError` or `TypeError`, as callers of a numeric library expect; the
application decides how a family is shown and which exit code it gives. Invalid tracker
parameters raise `detectors.errors.ParamsError`, the one parameter check of every plugin.

Example:
    >>> issubclass(TrackError, TrackerError) and issubclass(TrackError, ValueError)
    True
"""

from __future__ import annotations


class TrackerError(Exception):
    """Root of the tracker library's errors."""


class TrackError(TrackerError, ValueError):
    """A `Track` was built from invalid values."""


class TrackerUsageError(TrackerError, ValueError):
    """A tracker was called against its contract (frames out of order, a result from the future)."""


class ObservationTypeError(TrackerError, TypeError):
    """`Tracker.update` was given something that is not a ``(frame_index, Detections)`` pair."""
