"""The one exception type of the MediaPipe Hands package."""

from __future__ import annotations


class MediaPipeError(ValueError):
    """Bad input, options or model file for the MediaPipe Hands pipeline (one-line message)."""
