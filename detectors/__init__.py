"""Detector library: the `Detections` value, the `Detector` interface, box geometry, model
runtimes (tfjs loading, LiteRT) and the built-in detector plugins. It never imports the
application (`orchestrator`), which finds plugins by name and injects their model files.
"""

from detectors.detections import Detections
from detectors.detector import Detector
from detectors.errors import DetectionsError, DetectorError

__all__ = ["Detections", "DetectionsError", "Detector", "DetectorError"]
