"""The pipeline hash: what must match for a batch to keep an output made by an earlier run.

sha256 over, in order:

* the pipeline file's bytes (comments included: editing the file redoes the batch, on purpose);
* its resolved configuration as ``validate`` prints it (absolute paths, defaults filled in, and
  the per-model thread count a batch sets: `with_threads`), as sorted JSON;
* the bytes of every file a detector parameter names (``path_params``: a scripted fixture);
* for each detector using an installed model: the model's pinned package, version and
  integrity from its manifest (so pulling another version redoes the batch);
* the version of this project's distribution (``hands-orchestrator``).

The parts come from `orchestrator.provenance`, which also gives the events stream's
``pipeline_digest`` (the same on every machine, unlike this one, which has absolute paths: a
batch's outputs are tied to its folder anyway).

Not covered: source edits of the project without a version change, and the models' converted
files themselves (pinned by their package's integrity instead). Use ``--force`` after such changes.

Example:
    >>> from pathlib import Path
    >>> from orchestrator.config import parse_pipeline
    >>> text = "version: 1\\ndetectors:\\n  idle: {plugin: testing.noop}\\n"
    >>> config = parse_pipeline(text, Path("p.yaml"))
    >>> digest = pipeline_hash(config, text.encode())
    >>> len(digest), digest == pipeline_hash(config, text.encode() + b"# edited\\n")
    (64, False)
"""

from __future__ import annotations

import dataclasses
import json

from orchestrator.config import PipelineConfig
from orchestrator.provenance import digest, model_pins, param_file_hashes, project_version


def _accepts(plugin_class: type, param: str) -> bool:
    schema = getattr(plugin_class, "params_schema", None) or {}
    return param in (schema.get("properties") or {})


def with_threads(config: PipelineConfig, threads: int | None) -> PipelineConfig:
    """``config`` with ``num_threads: threads`` on every detector whose plugin has that parameter.

    A detector whose pipeline sets ``num_threads`` keeps its own value; ``threads=None`` changes
    nothing. Plugins without the parameter run as they do (their library's own default).

    >>> from pathlib import Path
    >>> from orchestrator.config import parse_pipeline
    >>> config = parse_pipeline("version: 1\\ndetectors:\\n  idle: {plugin: testing.noop}\\n", Path("p.yaml"))
    >>> with_threads(config, 1) == config    # testing.noop has no num_threads
    True
    """
    if threads is None:
        return config
    specs = tuple(
        dataclasses.replace(spec, params={**spec.params, "num_threads": threads})
        if _accepts(spec.plugin_class, "num_threads") and "num_threads" not in spec.params
        else spec
        for spec in config.detectors
    )
    return dataclasses.replace(config, detectors=specs)


def pipeline_hash(config: PipelineConfig, file_bytes: bytes) -> str:
    """The hex sha256 described in the module docstring, of ``config`` loaded from ``file_bytes``."""
    return digest(
        [
            file_bytes,
            json.dumps(config.to_dict(), sort_keys=True, default=str).encode("utf-8"),
            json.dumps(param_file_hashes(config)).encode("utf-8"),
            json.dumps(model_pins(config)).encode("utf-8"),
            project_version().encode("utf-8"),
        ]
    )
