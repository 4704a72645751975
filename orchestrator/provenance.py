"""Where a stream comes from: this package's version, the pipeline's hash, each detector's model.

The events stream's first record (``stream.start``, `orchestrator.events.StreamStartRecord`)
carries these, and the batch's resume key (`orchestrator.batch.fingerprint`) is built from the
same parts:

* `project_version`: the installed distribution's version (``hands-orchestrator``), or
  ``unknown`` when running from a tree that is not installed;
* `model_pins`: for each model a detector uses, its manifest's package, version and integrity;
* `param_file_hashes`: the sha256 of each file a detector parameter names (``path_params``);
* `stream_header`: the ``stream.start`` record of a run, from all of these;
* `pipeline_digest`: the hash of the resolved pipeline as a stream's reader needs it: the same
  on every machine and checkout (no absolute path goes in: a file parameter counts by its bytes,
  the source and the outputs' paths not at all), so the same pipeline gives the same events byte
  for byte wherever it runs.

Example:
    >>> from orchestrator.config import parse_pipeline
    >>> text = "version: 1\\nsource: {uri: 'rtsp://cam-a/s'}\\ndetectors:\\n  idle: {plugin: testing.noop}\\n"
    >>> one = pipeline_digest(parse_pipeline(text, Path("/here/p.yaml")))
    >>> one == pipeline_digest(parse_pipeline(text.replace("cam-a", "cam-b"), Path("/there/p.yaml")))
    True
    >>> one == pipeline_digest(parse_pipeline(text + "runtime: {mode: realtime}\\n", Path("/here/p.yaml")))
    False
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from detectors.detector import Detector
from orchestrator.config import DetectorSpec, PipelineConfig
from orchestrator.errors import UserError
from orchestrator.events import StreamDetector, StreamStartRecord

#: The distribution whose version `project_version` gives (``[project] name`` in pyproject.toml).
DISTRIBUTION = "hands-orchestrator"


def project_version() -> str:
    """This package's installed version (``0.1.0``), or ``unknown`` when it is not installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def model_pins(config: PipelineConfig) -> list[Any]:
    """``[[model, package, version, integrity], ...]`` of the models ``config``'s detectors use, by name.

    A model the store does not know is ``[model, None]`` (loading it fails anyway, with its own message).
    """
    names = sorted({getattr(spec.plugin_class, "model_name", None) or "" for spec in config.detectors} - {""})
    if not names:
        return []
    from orchestrator.modelstore import ModelStore

    store = ModelStore()
    pins: list[Any] = []
    for name in names:
        try:
            manifest = store.manifest(name)
            pins.append([name, manifest.package, manifest.version, manifest.integrity])
        except UserError:
            pins.append([name, None])
    return pins


def param_file_hashes(config: PipelineConfig) -> list[Any]:
    """``[[detector, param, sha256], ...]`` of the existing files the detectors' ``path_params`` name."""
    files: list[Any] = []
    for spec in config.detectors:
        for param in getattr(spec.plugin_class, "path_params", ()):
            value = spec.params.get(param)
            if isinstance(value, str) and Path(value).is_file():
                files.append([spec.name, param, hashlib.sha256(Path(value).read_bytes()).hexdigest()])
    return files


def digest(parts: list[bytes]) -> str:
    """The hex sha256 of ``parts``, each prefixed by its length (no two splits hash alike)."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


def portable_config(config: PipelineConfig) -> dict[str, Any]:
    """``config.to_dict()`` without what differs between machines: the source's URI, the outputs'
    paths, and the paths of file parameters (replaced by ``{"sha256": ...}`` of the file's bytes)."""
    resolved = config.to_dict()
    source = resolved.get("source")
    if isinstance(source, dict):
        resolved["source"] = {k: v for k, v in source.items() if k != "uri"}
    # Where records go is not what they are; which records the stream has is.
    resolved["outputs"] = {"records": (resolved.get("outputs") or {}).get("records", [])}
    hashes = {(name, param): sha for name, param, sha in param_file_hashes(config)}
    for spec in config.detectors:
        params = resolved["detectors"][spec.name]["params"]
        for param in getattr(spec.plugin_class, "path_params", ()):
            if param in params:
                sha = hashes.get((spec.name, param))
                params[param] = {"sha256": sha} if sha is not None else Path(str(params[param])).name
    return resolved


def pipeline_digest(config: PipelineConfig) -> str:
    """The hex sha256 of the resolved pipeline (`portable_config`) and its models' pins.

    Equal for the same pipeline on any machine; it changes with any option, parameter, file
    parameter's content or model version. The source and this package's version are not in it
    (the ``stream.start`` record gives both apart).
    """
    return digest(
        [
            json.dumps(portable_config(config), sort_keys=True, default=str).encode("utf-8"),
            json.dumps(model_pins(config)).encode("utf-8"),
        ]
    )


def stream_header(
    config: PipelineConfig,
    detectors: Sequence[tuple[DetectorSpec, Detector]],
    *,
    records: Iterable[str],
    source: str,
    source_kind: str,
    fps: float,
    fps_stated: float | None,
    frame_count: int | None,
    mode: str,
) -> StreamStartRecord:
    """The stream's header for a run of ``config`` with its loaded ``detectors`` (pipeline order).

    The frame fields (``frame``, ``time``, ``width``, ``height``) are left at 0 / None: the caller
    sets them from the first frame (`dataclasses.replace`). ``records`` are the opt-in record
    types emitted, written sorted.
    """
    return StreamStartRecord(
        frame=0,
        time=0.0,
        pipeline=config.name,
        pipeline_sha256=pipeline_digest(config),
        source=source,
        source_kind=source_kind,
        fps=fps,
        fps_stated=fps_stated,
        frame_count=frame_count,
        mode=mode,
        records=tuple(sorted(set(records))),
        relations=tuple(r.name for r in config.relations.relations) if config.relations is not None else (),
        detectors={spec.name: StreamDetector(spec.plugin, detector.provenance()) for spec, detector in detectors},
        version=project_version(),
    )
