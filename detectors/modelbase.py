"""Shared base of the detector plugins whose model comes from the model store.

`StoreModelDetector` handles the parameters every such plugin has (``score_threshold``,
``nms_iou``, ``max_detections``, ``runtime``, ``precision``, ``num_threads``), validates them
against the class's ``params_schema`` in ``__init__``, and in `load` opens the installed model
with the chosen runtime. Subclasses write `detect`: preprocessing, `infer`, postprocessing.

Nothing heavy is imported at module level: TensorFlow and LiteRT load in `load`.

Example:
    >>> from detectors.egohands import EgoHandsDetector
    >>> EgoHandsDetector(score_threshold=0.7).score_threshold_for("hand")
    0.7
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from detectors.base import Detector
from orchestrator.errors import UserError

RUNTIMES = ("litert", "tf")


def params_schema(precisions: Sequence[str], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema of the common parameters, plus ``extra`` properties.

    Example:
        >>> sorted(params_schema(["fp32"])["properties"])[:3]
        ['max_detections', 'nms_iou', 'num_threads']
    """
    properties: dict[str, Any] = {
        "score_threshold": {"type": "number", "minimum": 0, "maximum": 1, "description": "minimum score kept"},
        "nms_iou": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1,
            "description": "non-maximum suppression drops a box overlapping a better one by more than this IoU",
        },
        "max_detections": {"type": "integer", "minimum": 1, "description": "at most this many boxes per frame"},
        "runtime": {"enum": list(RUNTIMES), "description": "litert (converted model, default) or tf (TensorFlow)"},
        "precision": {
            "enum": ["auto", *precisions] if len(precisions) > 1 else list(precisions),
            "description": "fp32, or int8 after `python -m orchestrator models quantize` (runtime litert); "
            "auto (the default where int8 is offered): int8 when it is installed, else fp32",
        },
        "num_threads": {"type": "integer", "minimum": 1, "description": "CPU threads of the model runtime"},
        **(extra or {}),
    }
    return {"type": "object", "properties": properties, "additionalProperties": False}


class StoreModelDetector(Detector):
    """A detector running a model installed by `orchestrator.modelstore` in LiteRT or TensorFlow.

    Subclasses set ``model_name`` (the store's name, which is also the registry name), ``labels``,
    ``input_size``, ``precisions``, ``params_schema`` and implement `detect`.
    """

    #: The model store name of the model.
    model_name: ClassVar[str] = ""
    #: Precisions this model may run at (the manifest says which can be built).
    precisions: ClassVar[tuple[str, ...]] = ("fp32",)

    def __init__(
        self,
        score_threshold: float = 0.5,
        nms_iou: float = 0.5,
        max_detections: int = 100,
        runtime: str = "litert",
        precision: str = "auto",
        num_threads: int = 2,
        **extra: Any,
    ) -> None:
        if precision == "auto" and len(self.precisions) == 1:
            precision = self.precisions[0]
        params = {
            "score_threshold": score_threshold,
            "nms_iou": nms_iou,
            "max_detections": max_detections,
            "runtime": runtime,
            "precision": precision,
            "num_threads": num_threads,
            **extra,
        }
        self._validate(params)
        if runtime == "tf" and precision == "auto":
            precision = "fp32"
        if runtime == "tf" and precision != "fp32":
            raise UserError(f"{self.model_name}: precision {precision} needs runtime: litert (tf runs fp32 only)")
        self.score_threshold = float(score_threshold)
        self.nms_iou = float(nms_iou)
        self.max_detections = int(max_detections)
        self.runtime = runtime
        self.precision = precision
        self.num_threads = int(num_threads)
        self._runner: Any = None

    def _validate(self, params: Mapping[str, Any]) -> None:
        import jsonschema

        validator = jsonschema.Draft202012Validator(self.params_schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(dict(params)))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            raise UserError(f"{self.model_name}: parameter {where or '(params)'}: {error.message}")

    def score_threshold_for(self, label: str) -> float:
        """The score a detection of ``label`` needs to be kept (the operating point)."""
        return self.score_threshold

    # ---------------------------------------------------------------- life cycle
    def load(self) -> None:
        """Open the installed model in the chosen runtime.

        Raises `UserError` naming the command to run when the model (or its int8 build) is not
        in the model store.
        """
        if self._runner is not None:
            return
        from orchestrator.modelstore import installed_model

        model = installed_model(self.model_name)
        if self.precision == "auto":
            # The fastest build whose accuracy holds: int8 once `models quantize` has made it.
            self.precision = "int8" if "int8" in model.precisions else "fp32"
        path = model.runtime_file(self.runtime, self.precision)
        inputs, outputs = [model.manifest.input_tensor], list(model.manifest.outputs)
        if self.runtime == "tf":
            from detectors.tfjs import TFGraphRunner, read_graph_def

            self._runner = TFGraphRunner(read_graph_def(path), inputs, outputs, self.num_threads)
        else:
            from detectors.litert import LiteRTModel

            self._runner = LiteRTModel(path, self.num_threads, outputs)

    def infer(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Run the model on preprocessed inputs; loads it first if needed."""
        if self._runner is None:
            self.load()
        return self._runner.run(inputs)

    def close(self) -> None:
        """Release the runtime. Safe to call twice."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    @staticmethod
    def check_frame(image: np.ndarray) -> tuple[int, int]:
        """``(width, height)`` of an RGB uint8 ``(H, W, 3)`` frame; `ValueError` for anything else."""
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            shape = getattr(image, "shape", None)
            dtype = getattr(image, "dtype", type(image).__name__)
            raise ValueError(f"expected an RGB uint8 frame of shape (H, W, 3), got shape {shape} dtype {dtype}")
        return int(image.shape[1]), int(image.shape[0])
