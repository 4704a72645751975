"""Events files into other tools' formats: tracks as MOTChallenge text (`mot`), detections as COCO
JSON (`coco`), relations as an interval table in CSV (`intervals`); `events_file` reads and checks
the events file they start from. The ``export`` command (`orchestrator.cli.export`) runs them.
"""
