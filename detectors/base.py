"""Deprecated: the plugin API's old home. Import from `detectors.detector` and `detectors.detections`.

Plugins written for earlier releases (``from detectors.base import Detections, Detector``) keep
loading; importing this module warns once (``DeprecationWarning``). It will be removed in a
later release.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     from detectors.base import Detector as Old
    >>> from detectors.detector import Detector
    >>> Old is Detector
    True
"""

from __future__ import annotations

import warnings

from detectors.detections import Detections
from detectors.detector import Detector

__all__ = ["Detections", "Detector"]

warnings.warn(
    "detectors.base is deprecated: import Detector from detectors.detector and Detections from detectors.detections",
    DeprecationWarning,
    stacklevel=2,
)
