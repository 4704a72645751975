"""Convert a frozen TensorFlow ``GraphDef`` to LiteRT (TFLite) and run it.

`convert` produces a float32 flatbuffer, or with ``calibration`` samples a full-integer (int8)
one whose input and output stay float32 (the converter adds quantize/dequantize at the edges),
so the plugins' pre- and post-processing is the same for both. `LiteRTModel` wraps
``ai_edge_litert.interpreter.Interpreter`` (XNNPACK is its default CPU delegate) and also
handles int8/uint8 inputs and outputs, should a model have them.

Example:
    >>> flatbuffer = convert(graph_def, {"x:0": [1, 4]}, ["y:0"])  # doctest: +SKIP
    >>> model = LiteRTModel(flatbuffer, num_threads=2, output_names=["y:0"])  # doctest: +SKIP
    >>> (y,) = model.run([np.zeros((1, 4), np.float32)])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detectors.errors import ConversionError, ModelError


def convert(
    graph_def: Any,
    inputs: Mapping[str, Sequence[int]],
    outputs: Sequence[str],
    calibration: Callable[[], Iterable[Sequence[np.ndarray]]] | None = None,
) -> bytes:
    """Convert ``graph_def`` (a frozen ``tf.compat.v1.GraphDef``) to a ``.tflite`` flatbuffer.

    Args:
        graph_def: the graph, with weights in its ``Const`` nodes and only standard ops.
        inputs: input tensor name → static shape. The tensors must be ``Placeholder`` outputs
            (see `detectors.tfjs.cut_graph` to start a graph in the middle).
        outputs: output tensor names, in the order `LiteRTModel.run` should return them.
        calibration: for full-int8 post-training quantization, a callable returning an
            iterable of input lists (one float32 array per input) covering typical data
            (a hundred frames is plenty). ``None`` gives float32.

    Example:
        >>> int8 = convert(gd, {"x:0": [1, 300, 300, 3]}, ["y:0"], calibration=lambda: ([f] for f in frames))
        ... # doctest: +SKIP
    """
    import tensorflow as tf

    from detectors.tfjs import tensor_name

    graph = tf.Graph()
    with graph.as_default():
        try:
            tf.compat.v1.import_graph_def(graph_def, name="")
        except ValueError as exc:  # shapes that do not fit together (a graph resized to a size it cannot take)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConversionError(f"cannot convert: the graph does not fit together ({first})") from None
    try:
        in_tensors = [graph.get_tensor_by_name(tensor_name(n)) for n in inputs]
        out_tensors = [graph.get_tensor_by_name(tensor_name(n)) for n in outputs]
    except (KeyError, ValueError) as exc:
        raise ConversionError(f"cannot convert: the graph has no such tensor ({exc})") from None
    for tensor, shape in zip(in_tensors, inputs.values(), strict=True):
        tensor.set_shape(shape)
    with tf.compat.v1.Session(graph=graph) as session:
        converter = tf.compat.v1.lite.TFLiteConverter.from_session(session, in_tensors, out_tensors)
        if calibration is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([np.asarray(a, np.float32) for a in s] for s in calibration())
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        try:
            return bytes(converter.convert())
        except Exception as exc:  # the converter raises several private error types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConversionError(f"LiteRT conversion failed: {first}") from exc


class LiteRTModel:
    """A LiteRT interpreter with numpy in, numpy out.

    Args:
        model: a ``.tflite`` path or the flatbuffer bytes.
        num_threads: CPU threads for the interpreter (and its XNNPACK delegate); ``None`` lets
            LiteRT choose.
        output_names: return outputs in this order (matched by tensor name, ``:0`` optional);
            ``None`` keeps the model's order.

    Example:
        >>> model = LiteRTModel("model.tflite", num_threads=2)  # doctest: +SKIP
        >>> model.input_shapes  # doctest: +SKIP
        [(1, 300, 300, 3)]
    """

    def __init__(
        self, model: str | Path | bytes, num_threads: int | None = None, output_names: Sequence[str] | None = None
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter

        source = {"model_content": bytes(model)} if isinstance(model, bytes | bytearray) else {"model_path": str(model)}
        try:
            self._interpreter: Any = Interpreter(**source, num_threads=num_threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            where = source.get("model_path", "model bytes")
            raise ModelError(f"{where}: not a loadable LiteRT model ({str(exc).splitlines()[0]})") from None
        self._inputs = self._interpreter.get_input_details()
        self._outputs = self._order(self._interpreter.get_output_details(), output_names)

    @staticmethod
    def _order(details: list[dict[str, Any]], names: Sequence[str] | None) -> list[dict[str, Any]]:
        if names is None:
            return details
        by_name = {d["name"].removesuffix(":0"): d for d in details}
        wanted = [n.removesuffix(":0") for n in names]
        if all(n in by_name for n in wanted):
            return [by_name[n] for n in wanted]
        if len(details) != len(wanted):
            raise ModelError(f"LiteRT model has {len(details)} outputs, expected {len(wanted)}: {list(names)}")
        return details

    @property
    def input_shapes(self) -> list[tuple[int, ...]]:
        """Static input shapes, in input order."""
        return [tuple(int(v) for v in d["shape"]) for d in self._inputs]

    @property
    def input_dtypes(self) -> list[np.dtype]:
        """Input tensor dtypes (float32 for this project's models, int8 also for quantized ones)."""
        return [np.dtype(d["dtype"]) for d in self._inputs]

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Set the inputs (in input order), invoke, and return float outputs (in output order)."""
        if self._interpreter is None:
            raise RuntimeError("LiteRTModel is closed")
        for detail, array in zip(self._inputs, arrays, strict=True):
            self._interpreter.set_tensor(detail["index"], _quantize(np.asarray(array), detail))
        self._interpreter.invoke()
        return [_dequantize(self._interpreter.get_tensor(d["index"]), d) for d in self._outputs]

    def close(self) -> None:
        """Drop the interpreter. Safe to call twice."""
        self._interpreter = None


def _quantize(array: np.ndarray, detail: Mapping[str, Any]) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if dtype.kind in "iu" and scale and array.dtype.kind == "f":
        info = np.iinfo(dtype)
        return np.clip(np.round(array / scale + zero_point), info.min, info.max).astype(dtype)
    return array.astype(dtype, copy=False)


def _dequantize(array: np.ndarray, detail: Mapping[str, Any]) -> np.ndarray:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if array.dtype.kind in "iu" and scale:
        return (array.astype(np.float32) - zero_point) * np.float32(scale)
    return array
