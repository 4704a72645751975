"""Pipeline YAML, version 1: load, validate once, resolve; every error carries its file and line.

The face of the package; the parts live in small modules:

* `orchestrator.config.yaml_lines`: safe YAML loading with the line of every value;
* `orchestrator.config.schema`: the JSON Schema of pipeline files (relations composed in);
* `orchestrator.config.env`: ``${VAR}`` expansion, path and source resolution;
* `orchestrator.config.spec`: the frozen values (`PipelineConfig`, `SourceSpec`, `DetectorSpec`, ...);
* `orchestrator.config.issues`, `.sections`, `.plugins`: the one-pass checks and resolution;
* `orchestrator.config.parse`: `parse_pipeline`, `load_pipeline`; `.instantiate`: `instantiate`.

Environment variables: string paths (``source.uri``, ``outputs.events`` and plugin path
parameters such as a fixture) may contain ``${VAR}`` or ``${VAR:-default}``. Relative paths
are resolved against the directory of the pipeline file.

Example:
    >>> cfg = load_pipeline("pipelines/hands_only.yaml")          # doctest: +SKIP
    >>> [d.name for d in cfg.detectors]                            # doctest: +SKIP
    ['hands']
"""

from __future__ import annotations

from orchestrator.config.env import expand_env, resolve_source_uri
from orchestrator.config.instantiate import instantiate
from orchestrator.config.parse import load_pipeline, parse_pipeline
from orchestrator.config.schema import pipeline_schema
from orchestrator.config.spec import (
    PER_FRAME_RECORDS,
    DetectorSpec,
    OutputSpec,
    PipelineConfig,
    RuntimeSpec,
    SinkSpec,
    SourceSpec,
    TrackerSpec,
)
from orchestrator.errors import ConfigError, ConfigIssue

__all__ = [
    "PER_FRAME_RECORDS",
    "ConfigError",
    "ConfigIssue",
    "DetectorSpec",
    "OutputSpec",
    "PipelineConfig",
    "RuntimeSpec",
    "SinkSpec",
    "SourceSpec",
    "TrackerSpec",
    "expand_env",
    "instantiate",
    "load_pipeline",
    "parse_pipeline",
    "pipeline_schema",
    "resolve_source_uri",
]
