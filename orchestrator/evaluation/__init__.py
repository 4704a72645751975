"""Accuracy measurement: detection AP (`orchestrator.evaluation.detection`)."""
