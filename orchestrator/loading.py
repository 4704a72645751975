"""Load a pipeline's detectors: construct, bind installed model files, ``load``, all or nothing.

Shared by the threaded runtime and the embedded pipeline so that both report a detector that
cannot load the same way.

Example:
    >>> from orchestrator.config import load_pipeline
    >>> detectors = load_detectors(load_pipeline("pipelines/hands_only.yaml"))   # doctest: +SKIP
    >>> [(spec.name, type(d).__name__) for spec, d in detectors]                 # doctest: +SKIP
    [('hands', 'MediaPipeHandsDetector')]
"""

from __future__ import annotations

from detectors.detector import Detector
from detectors.errors import DetectorError
from orchestrator.config import PipelineConfig, instantiate
from orchestrator.config.spec import DetectorSpec
from orchestrator.errors import PipelineError, UserError


def load_detectors(config: PipelineConfig) -> list[tuple[DetectorSpec, Detector]]:
    """Every detector of ``config``, loaded, in the pipeline's order.

    Raises `UserError` naming the detector for a problem its user can fix (a model not installed,
    bad files) and `PipelineError` for any other failure to load; detectors already loaded are
    closed first, so nothing stays allocated after an error.
    """
    from orchestrator.modelstore.binding import bind_and_load

    detectors = instantiate(config)
    loaded: list[tuple[DetectorSpec, Detector]] = []
    try:
        for spec, detector in detectors:
            try:
                bind_and_load(detector)
            except (UserError, DetectorError) as exc:
                raise UserError(f"detector '{spec.name}' ({spec.plugin}): {exc}") from exc
            except Exception as exc:
                raise PipelineError(
                    f"detector '{spec.name}' ({spec.plugin}) failed to load: {type(exc).__name__}: {exc}"
                ) from exc
            loaded.append((spec, detector))
    except BaseException:
        for _, detector in detectors:
            detector.close()
        raise
    return loaded
