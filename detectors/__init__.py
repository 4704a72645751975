"""Detector plugins: the `Detector` interface, the `Detections` value and the built-in models."""

from detectors.base import Detections, DetectionsError, Detector

__all__ = ["Detections", "DetectionsError", "Detector"]
