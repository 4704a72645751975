"""``detectors.base``: the deprecated alias old plugins import still gives the plugin API."""

from __future__ import annotations

import importlib
import sys

import pytest

from detectors.detections import Detections
from detectors.detector import Detector


def test_old_import_path_warns_and_gives_the_same_classes() -> None:
    sys.modules.pop("detectors.base", None)
    with pytest.warns(DeprecationWarning, match=r"detectors\.base is deprecated"):
        base = importlib.import_module("detectors.base")
    assert base.Detector is Detector and base.Detections is Detections
