"""The `Tracker` interface."""

from __future__ import annotations

import pytest

from trackers.tracker import Tracker


def test_tracker_is_abstract() -> None:
    with pytest.raises(TypeError):
        Tracker()  # type: ignore[abstract]
