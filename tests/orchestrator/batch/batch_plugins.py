"""Test-only detector plugins for batches (``plugin: batch_plugins:Crash``, this folder on the path).

`Crash` ends its own process in the middle of one input, told apart from the others by its
frame width (the batch runs one pipeline, so a plugin cannot see which file it is given):
``how: exit`` calls ``os._exit(3)`` (a native crash, an ``exit()`` in a library), ``how: sigkill``
kills the process (the OOM killer, an operator's ``kill -9``). With ``once_marker`` it does so
only while that file does not exist (and creates it first), so a second batch succeeds.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from detectors.detections import Detections
from detectors.detector import Detector

#: Where plugins of this module are found: put it on PYTHONPATH (subprocesses) or sys.path.
PLUGIN_DIR = Path(__file__).resolve().parent


class Crash(Detector):
    """Kills its process at frame ``at_frame`` of an input whose frames are ``width`` pixels wide."""

    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["width"],
        "properties": {
            "width": {"type": "integer"},
            "at_frame": {"type": "integer", "minimum": 0},
            "how": {"enum": ["exit", "sigkill"]},
            "once_marker": {"type": ["string", "null"]},
        },
    }

    def __init__(self, width: int, at_frame: int = 5, how: str = "exit", once_marker: str | None = None) -> None:
        self.width = width
        self.at_frame = at_frame
        self.how = how
        self.once_marker = once_marker

    def detect(self, image: np.ndarray) -> Detections:
        return Detections.empty()

    def detect_frame(self, image: np.ndarray, frame_index: int, time_s: float) -> Detections:
        mine = image.shape[1] == self.width and frame_index == self.at_frame
        if mine and (self.once_marker is None or not os.path.exists(self.once_marker)):
            if self.once_marker is not None:
                Path(self.once_marker).touch()
            os.write(2, f"batch_plugins.Crash: ending this process ({self.how}) at frame {frame_index}\n".encode())
            if self.how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return Detections.empty()
