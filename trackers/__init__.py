"""Trackers: the plugin interface (`trackers.base`), the SORT-style Kalman + IoU tracker and the
no-tracking baseline (`trackers.sort`), and their building blocks (`kalman`, `association`, `bench`).
"""
