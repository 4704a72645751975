"""Construct the detector plugins of a resolved pipeline; a constructor's error gets the YAML line."""

from __future__ import annotations

from typing import Any

from detectors.errors import DetectorError
from orchestrator.config.spec import DetectorSpec, PipelineConfig
from orchestrator.errors import ConfigError, ConfigIssue, UserError
from trackers.errors import TrackerError


def instantiate(config: PipelineConfig) -> list[tuple[DetectorSpec, Any]]:
    """Construct each detector plugin (cheap: no weights yet), in pipeline order.

    Returns:
        ``(spec, detector)`` pairs; the caller closes the detectors.

    Raises:
        ConfigError: every constructor failure, at the line of its detector (those built are closed).

    Example:
        >>> from pathlib import Path
        >>> from orchestrator.config.parse import parse_pipeline
        >>> config = parse_pipeline("version: 1\\ndetectors:\\n  idle: {plugin: testing.noop}\\n", Path("p.yaml"))
        >>> [(spec.name, type(detector).__name__) for spec, detector in instantiate(config)]
        [('idle', 'NoopDetector')]
    """
    built: list[tuple[DetectorSpec, Any]] = []
    issues: list[ConfigIssue] = []
    for spec in config.detectors:
        try:
            built.append((spec, spec.plugin_class(**spec.params)))
        except (TypeError, ValueError, UserError, DetectorError, TrackerError, OSError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            issues.append(ConfigIssue(str(config.path), spec.line, f"detectors.{spec.name}.params", message))
    if issues:
        for _, detector in built:
            detector.close()
        raise ConfigError(issues)
    return built
