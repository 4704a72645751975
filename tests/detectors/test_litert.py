"""GraphDef → LiteRT conversion (float32 and full int8) and the interpreter wrapper, on a tiny model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import TinyTfjs

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")

from detectors import litert, tfjs
from detectors.errors import ConversionError, ModelError


@pytest.fixture(scope="module")
def graph_def(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("tiny")
    TinyTfjs().write(folder, "new", "float16")
    return tfjs.load_graph_def(folder)


def _tf(graph_def, x: np.ndarray) -> np.ndarray:
    runner = tfjs.TFGraphRunner(graph_def, ["input"], ["output"])
    out = runner.run([x])[0]
    runner.close()
    return out


def test_fp32_litert_matches_tensorflow(graph_def, tmp_path: Path) -> None:
    flatbuffer = litert.convert(graph_def, {"input:0": list(TinyTfjs.shape)}, ["output:0"])
    path = tmp_path / "m.tflite"
    path.write_bytes(flatbuffer)
    model = litert.LiteRTModel(path, num_threads=1, output_names=["output:0"])
    assert model.input_shapes == [TinyTfjs.shape] and model.input_dtypes == [np.dtype(np.float32)]
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.uniform(-1, 1, TinyTfjs.shape).astype(np.float32)
        np.testing.assert_allclose(model.run([x])[0], _tf(graph_def, x), rtol=1e-4, atol=1e-5)
    model.close()
    model.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        model.run([x])


def test_int8_keeps_float_io_and_stays_close(graph_def) -> None:
    rng = np.random.default_rng(1)
    samples = [rng.uniform(-1, 1, TinyTfjs.shape).astype(np.float32) for _ in range(16)]
    flatbuffer = litert.convert(
        graph_def, {"input:0": list(TinyTfjs.shape)}, ["output:0"], calibration=lambda: ([s] for s in samples)
    )
    model = litert.LiteRTModel(flatbuffer, num_threads=1)
    assert model.input_dtypes == [np.dtype(np.float32)]
    details = model._interpreter.get_tensor_details()
    assert any(np.dtype(d["dtype"]) == np.int8 for d in details), "no int8 tensors: not quantized"
    x = samples[0]
    np.testing.assert_allclose(model.run([x])[0], _tf(graph_def, x), atol=0.05)


def test_unknown_tensor_and_bad_flatbuffer_are_model_errors(graph_def) -> None:
    with pytest.raises(ConversionError, match="no such tensor"):
        litert.convert(graph_def, {"nope:0": [1]}, ["output:0"])
    with pytest.raises(ModelError, match="not a loadable LiteRT model"):
        litert.LiteRTModel(b"not a flatbuffer")
