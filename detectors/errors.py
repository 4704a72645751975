"""Exceptions of the detector library, rooted in `DetectorError`.

The library knows nothing of the command line: the application decides how each family is shown
and which exit code it gives. Every message is one line naming the file, parameter or value.

Example:
    >>> issubclass(ParamsError, DetectorError) and issubclass(ParamsError, ValueError)
    True
"""

from __future__ import annotations


class DetectorError(Exception):
    """Root of the detector library's errors."""


class DetectionsError(DetectorError, ValueError):
    """A `Detections` value was built from inconsistent or invalid arrays."""


class ParamsError(DetectorError, ValueError):
    """Plugin parameters that do not match the plugin's ``params_schema``."""


class ModelError(DetectorError):
    """A model file is missing, malformed, or cannot be loaded or run by the chosen runtime."""


class TfjsError(ModelError):
    """A tfjs model file is missing, malformed, or uses something this loader does not support."""


class ConversionError(ModelError):
    """The TensorFlow → LiteRT converter refused a graph."""


class FixtureError(DetectorError, ValueError):
    """A scripted detector's fixture file is missing or malformed."""


class MediaPipeError(DetectorError, ValueError):
    """Bad input, options or model file for the MediaPipe Hands pipeline (one-line message)."""
