"""Tracker library: the `Track` value (`trackers.track`), the plugin interface
(`trackers.tracker`), the SORT-style Kalman + IoU tracker (`trackers.sort`), the no-tracking
baseline (`trackers.none`) and their building blocks (`kalman`, `association`). Boxes and
geometry come from `detectors`; the application (`orchestrator`) is never imported.
"""
