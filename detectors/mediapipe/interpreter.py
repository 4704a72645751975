"""Loading a LiteRT (TFLite) model and checking its tensors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from detectors.errors import MediaPipeError


def load_model(
    path: str | os.PathLike[str],
    num_threads: int,
    input_shape: Sequence[int],
    output_shapes: Sequence[Sequence[int]],
) -> tuple[object, int, list[int]]:
    """Open a ``.tflite`` file with LiteRT (XNNPACK, ``num_threads``) and check its tensor shapes.

    Returns ``(interpreter, input_index, output_indices)``; the outputs come in the model's own
    output order (the order MediaPipe's ``InferenceCalculator`` uses). Raises `MediaPipeError`
    naming the file when it is missing, unreadable, or its input/outputs have other shapes.
    """
    from ai_edge_litert.interpreter import Interpreter

    path = Path(path)
    if not path.is_file():
        raise MediaPipeError(f"model file not found: {path}")
    if int(num_threads) < 1:
        raise MediaPipeError(f"num_threads must be >= 1, got {num_threads}")
    try:
        interpreter = Interpreter(model_path=str(path), num_threads=int(num_threads))
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MediaPipeError(f"cannot load {path.name}: {first}") from None
    inputs = interpreter.get_input_details()
    outputs = interpreter.get_output_details()
    got_in = [list(d["shape"]) for d in inputs]
    got_out = [list(d["shape"]) for d in outputs]
    if got_in != [list(input_shape)] or got_out != [list(s) for s in output_shapes]:
        raise MediaPipeError(
            f"{path.name} has inputs {got_in} and outputs {got_out}, "
            f"expected [{list(input_shape)}] and {[list(s) for s in output_shapes]}"
        )
    return interpreter, int(inputs[0]["index"]), [int(d["index"]) for d in outputs]
