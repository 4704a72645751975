"""Shared base of the detector plugins whose model comes from the model store.

`StoreModelDetector` handles the parameters every such plugin has (``score_threshold``,
``nms_iou``, ``max_detections``, ``runtime``, ``precision``, ``num_threads``), validates them
against the class's ``params_schema`` in ``__init__``, and in `load` opens the model files the
application bound with `StoreModelDetector.bind_model_files` (a `ModelFiles` value) in the chosen
runtime. Subclasses write `detect`: preprocessing, `infer`, postprocessing.

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

from detectors.detector import Detector, Provenance
from detectors.errors import ModelError, ParamsError
from detectors.modelfiles import ModelFiles
from detectors.params import check_params

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
    """A detector running an installed model in LiteRT or TensorFlow.

    Subclasses set ``model_name`` (the name its files are installed under, which is also the
    plugin name), ``labels``, ``input_size``, ``precisions``, ``params_schema`` and implement
    `detect`. The application hands it the installed files (`bind_model_files`) before `load`.
    """

    #: The name the model's files are installed under.
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
            raise ParamsError(f"{self.model_name}: precision {precision} needs runtime: litert (tf runs fp32 only)")
        self.score_threshold = float(score_threshold)
        self.nms_iou = float(nms_iou)
        self.max_detections = int(max_detections)
        self.runtime = runtime
        self.precision = precision
        self.num_threads = int(num_threads)
        self._runner: Any = None
        self._model_files: ModelFiles | None = None

    def _validate(self, params: Mapping[str, Any]) -> None:
        check_params(self.model_name, self.params_schema, params)

    def score_threshold_for(self, label: str) -> float:
        """The score a detection of ``label`` needs to be kept (the operating point)."""
        return self.score_threshold

    # ---------------------------------------------------------------- life cycle
    def bind_model_files(self, files: ModelFiles) -> None:
        """Take the installed files `load` opens (the application resolves them; see `ModelFiles`).

        Raises:
            ModelError: ``files`` belong to another model.
        """
        if files.name != self.model_name:
            raise ModelError(f"{self.model_name}: given the model files of {files.name}")
        self._model_files = files

    def load(self) -> None:
        """Open the bound model files in the chosen runtime.

        Raises:
            ModelError: no files were bound, or none for this runtime and precision (the message
                is the one the application gave for it, e.g. naming the command that builds it).
        """
        if self._runner is not None:
            return
        files = self._model_files
        if files is None:
            raise ModelError(
                f"{self.model_name}: no model files bound; the application passes them with bind_model_files() "
                "before load()"
            )
        size = tuple(self.input_size) if self.input_size is not None else None
        other_size = size is not None and files.input_size is not None and size != tuple(files.input_size)
        if self.precision == "auto":
            # The fastest build whose accuracy holds: int8 once it has been built.
            self.precision = "int8" if "int8" in files.precisions and not other_size else "fp32"
        if other_size:
            assert size is not None
            if (self.runtime, self.precision) != ("litert", "fp32"):
                raise ModelError(
                    f"{self.model_name}: input_size {size[0]}x{size[1]} is built for runtime litert at precision "
                    f"fp32 only, got runtime {self.runtime}, precision {self.precision}"
                )
            path = files.path_at_size((size[0], size[1]))
        else:
            path = files.path(self.runtime, self.precision)
        inputs, outputs = [files.input_tensor], list(files.outputs)
        if self.runtime == "tf":
            from detectors.tfjs import TFGraphRunner, read_graph_def

            self._runner = TFGraphRunner(read_graph_def(path), inputs, outputs, self.num_threads)
        else:
            from detectors.litert import LiteRTModel

            runner = LiteRTModel(path, self.num_threads, outputs)
            width, height = self.input_size if self.input_size is not None else (None, None)
            shape = runner.input_shapes[0] if runner.input_shapes else ()
            if width is not None and (len(shape) != 4 or (shape[1], shape[2]) != (height, width)):
                runner.close()  # a file swapped for another build: say so now, not on the first frame
                expected = f"[1, {height}, {width}, 3]"
                raise ModelError(f"{path}: input shape {list(shape)}, expected {expected} for {self.model_name}")
            self._runner = runner

    def provenance(self) -> Provenance:
        """The bound files' package, the precision (resolved by `load`) and the runtime.

        Example:
            >>> from detectors.egohands import EgoHandsDetector
            >>> EgoHandsDetector(runtime="tf").provenance()     # no files bound yet: no package
            Provenance(model=None, precision='fp32', runtime='tf')
        """
        package = self._model_files.package if self._model_files is not None else ""
        return Provenance(package or None, self.precision, self.runtime)

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
