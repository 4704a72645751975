"""Construct plugins from user parameters: `construct`, the one place it is done; `instantiate` a pipeline's detectors.

`construct` checks the parameters against the plugin's ``params_schema`` with the one parameter
check (`detectors.params.check_params`) before calling the constructor, so an unknown or
mistyped parameter is a one-line `ParamsError`, never a ``TypeError`` from the signature.
The pipeline loader (detectors and trackers), `instantiate`, ``eval`` and ``bench`` all build
plugins through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from detectors.errors import DetectorError
from detectors.params import check_params
from orchestrator.config.spec import DetectorSpec, PipelineConfig
from orchestrator.errors import ConfigError, ConfigIssue, UserError
from trackers.errors import TrackerError

#: What a plugin constructor raises for what the user gave (the pipeline loader reports these with their line).
CONSTRUCTOR_ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    ValueError,
    UserError,
    DetectorError,
    TrackerError,
    OSError,
)


def construct(owner: str, plugin_class: Any, params: Mapping[str, Any]) -> Any:
    """``plugin_class(**params)`` after checking ``params`` against the plugin's ``params_schema``.

    ``owner`` names the plugin in the message (a registered name such as ``hands.egohands``).

    Raises:
        ParamsError: ``"{owner}: parameter {path}: {message}"`` for the first problem, before construction.
        Exception: whatever the constructor raises (see `CONSTRUCTOR_ERRORS`).

    Example:
        >>> from detectors.testing import NoopDetector
        >>> construct("testing.noop", NoopDetector, {"bogus": 1})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        detectors.errors.ParamsError: testing.noop: parameter bogus: unknown key 'bogus'; expected one of: ...
    """
    schema = getattr(plugin_class, "params_schema", None) or {"type": "object"}
    check_params(owner, schema, params)
    return plugin_class(**params)


def constructor_message(exc: BaseException) -> str:
    """The first line of a constructor's error (its type name when it has no message)."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


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
            built.append((spec, construct(spec.plugin, spec.plugin_class, spec.params)))
        except CONSTRUCTOR_ERRORS as exc:
            issues.append(
                ConfigIssue(str(config.path), spec.line, f"detectors.{spec.name}.params", constructor_message(exc))
            )
    if issues:
        for _, detector in built:
            detector.close()
        raise ConfigError(issues)
    return built
