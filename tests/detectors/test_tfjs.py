"""tfjs → TensorFlow loading on tiny models written by the tests: both layouts, quantized weights, fused ops."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import TinyTfjs

tf = pytest.importorskip("tensorflow")

from detectors import tfjs  # noqa: E402  (after the importorskip)
from detectors.errors import TfjsError  # noqa: E402


def _run(graph_def, x: np.ndarray, inputs=("input",), outputs=("output",)) -> np.ndarray:
    runner = tfjs.TFGraphRunner(graph_def, list(inputs), list(outputs), num_threads=1)
    try:
        return runner.run([x])[0]
    finally:
        runner.close()


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(1).uniform(-1, 1, TinyTfjs.shape).astype(np.float32)


@pytest.mark.parametrize("layout", ["new", "old"])
@pytest.mark.parametrize("quantization", [None, "float16", "uint8"])
def test_loader_reproduces_the_tensorflow_outputs(
    tmp_path: Path, tiny_tfjs: TinyTfjs, x: np.ndarray, layout: str, quantization: str | None
) -> None:
    decoded = tiny_tfjs.write(tmp_path, layout, quantization)
    graph_def = tfjs.load_graph_def(tmp_path)
    expected = tiny_tfjs.reference(x, decoded)
    np.testing.assert_allclose(_run(graph_def, x), expected, rtol=1e-5, atol=1e-6)
    if quantization:  # the quantized weights really are different from the originals
        assert not np.allclose(tiny_tfjs.reference(x, tiny_tfjs.weights), expected, rtol=1e-6, atol=1e-7)


def test_weights_are_decoded_exactly(tmp_path: Path, tiny_tfjs: TinyTfjs) -> None:
    decoded = tiny_tfjs.write(tmp_path, "old", "uint8")
    manifest = json.loads((tmp_path / "weights_manifest.json").read_text())
    weights = tfjs.read_weights(manifest, tmp_path)
    assert set(weights) == set(decoded)
    for name, value in decoded.items():
        np.testing.assert_array_equal(weights[name], value.astype(weights[name].dtype), err_msg=name)
    # int64 stored as int32 comes back as the Const node's int64
    graph_def = tfjs.load_graph_def(tmp_path)
    (shape,) = [n for n in graph_def.node if n.name == "flat/shape"]
    assert tf.make_ndarray(shape.attr["value"].tensor).dtype == np.int64


def test_fused_ops_are_split_into_standard_ops(tmp_path: Path, tiny_tfjs: TinyTfjs) -> None:
    tiny_tfjs.write(tmp_path, "new")
    ops = {n.name: n.op for n in tfjs.load_graph_def(tmp_path / "model.json").node}
    assert not {"_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul"} & set(ops.values())
    assert {"Conv2D", "DepthwiseConv2dNative", "MatMul", "BiasAdd", "Relu", "Relu6", "LeakyRelu"} <= set(ops.values())
    # the last op of each chain keeps the fused node's name, so consumers stay connected
    assert (ops["conv"], ops["dw"], ops["fc"]) == ("Relu", "Relu6", "LeakyRelu")


def test_prelu_and_batch_norm_fusions(x: np.ndarray) -> None:
    av = tf.compat.v1.AttrValue
    f32 = av(type=tf.float32.as_datatype_enum)
    rng = np.random.default_rng(3)
    w = rng.normal(size=(1, 1, 3, 2)).astype(np.float32)
    scale, offset, mean, var = (rng.uniform(0.5, 1.5, 2).astype(np.float32) for _ in range(4))
    alpha = np.array([0.2, 0.3], np.float32)
    graph_def = tf.compat.v1.GraphDef()
    placeholder = graph_def.node.add(name="input", op="Placeholder")
    placeholder.attr["dtype"].CopyFrom(f32)
    for name, value in {"w": w, "s": scale, "o": offset, "m": mean, "v": var, "a": alpha}.items():
        node = graph_def.node.add(name=name, op="Const")
        node.attr["dtype"].CopyFrom(f32)
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
    fused = graph_def.node.add(name="bn", op="_FusedConv2D", input=["input", "w", "s", "o", "m", "v"])
    for key, value in {
        "T": f32,
        "strides": av(list=av.ListValue(i=[1, 1, 1, 1])),
        "padding": av(s=b"VALID"),
        "num_args": av(i=4),
        "epsilon": av(f=0.001),
        "fused_ops": av(list=av.ListValue(s=[b"FusedBatchNorm"])),
    }.items():
        fused.attr[key].CopyFrom(value)
    prelu = graph_def.node.add(name="output", op="_FusedConv2D", input=["input", "w", "o", "a"])
    for key, value in {
        "T": f32,
        "strides": av(list=av.ListValue(i=[1, 1, 1, 1])),
        "padding": av(s=b"VALID"),
        "num_args": av(i=2),
        "fused_ops": av(list=av.ListValue(s=[b"BiasAdd", b"Prelu"])),
    }.items():
        prelu.attr[key].CopyFrom(value)
    split = tfjs.split_fused_ops(graph_def)
    conv = tf.nn.conv2d(x, w, 1, "VALID").numpy()
    bn = (conv - mean) / np.sqrt(var + 0.001) * scale + offset
    biased = conv + offset
    prelu_ref = np.where(biased > 0, biased, alpha * biased)
    runner = tfjs.TFGraphRunner(split, ["input"], ["bn", "output"])
    got_bn, got_prelu = runner.run([x])
    runner.close()
    np.testing.assert_allclose(got_bn, bn, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_prelu, prelu_ref, rtol=1e-5, atol=1e-6)


def test_cut_graph_starts_at_an_inner_tensor(tmp_path: Path, tiny_tfjs: TinyTfjs, x: np.ndarray) -> None:
    tiny_tfjs.write(tmp_path, "old")
    graph_def = tfjs.load_graph_def(tmp_path)
    inner = _run(graph_def, x, outputs=["conv"])
    cut = tfjs.cut_graph(graph_def, {"conv:0": list(inner.shape)}, ["output:0"])
    assert "input" not in {n.name for n in cut.node}  # everything before the cut is gone
    np.testing.assert_allclose(_run(cut, inner, inputs=["conv"]), _run(graph_def, x), rtol=1e-6)
    with pytest.raises(TfjsError, match="no node named 'nope'"):
        tfjs.cut_graph(graph_def, {"nope:0": [1]}, ["output:0"])


def test_truncated_shard_is_a_one_line_error(tmp_path: Path, tiny_tfjs: TinyTfjs) -> None:
    tiny_tfjs.write(tmp_path, "old")
    shard = tmp_path / "group1-shard2of2.bin"
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(TfjsError, match="truncated") as info:
        tfjs.load_graph_def(tmp_path)
    assert "\n" not in str(info.value) and str(tmp_path) in str(info.value)


def test_missing_shard_and_bad_json_name_the_file(tmp_path: Path, tiny_tfjs: TinyTfjs) -> None:
    tiny_tfjs.write(tmp_path, "new")
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(TfjsError, match=r"weights\.bin: weight shard not found"):
        tfjs.load_graph_def(tmp_path / "model.json")
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(TfjsError, match=r"model\.json: not valid JSON"):
        tfjs.load_graph_def(tmp_path / "model.json")


def test_weight_without_a_const_node_is_an_error(tmp_path: Path, tiny_tfjs: TinyTfjs) -> None:
    tiny_tfjs.write(tmp_path, "new")
    model = json.loads((tmp_path / "model.json").read_text())
    model["weightsManifest"][0]["weights"][0]["name"] = "renamed"
    (tmp_path / "model.json").write_text(json.dumps(model))
    with pytest.raises(TfjsError, match="weight 'renamed' has no Const node"):
        tfjs.load_graph_def(tmp_path / "model.json")


def _resizable_graph():
    """input [1, 8, 8, 3] -> 2x bilinear upsampling (size constant [16, 16]) -> reshape to [1, 16*16*3]."""
    av = tf.compat.v1.AttrValue
    f32 = av(type=tf.float32.as_datatype_enum)
    gd = tf.compat.v1.GraphDef()

    def const(name: str, value: np.ndarray):
        node = tf.compat.v1.NodeDef(name=name, op="Const")
        node.attr["dtype"].CopyFrom(av(type=tf.as_dtype(value.dtype).as_datatype_enum))
        node.attr["value"].CopyFrom(av(tensor=tf.make_tensor_proto(value)))
        return node

    placeholder = tf.compat.v1.NodeDef(name="input", op="Placeholder")
    placeholder.attr["dtype"].CopyFrom(f32)
    placeholder.attr["shape"].CopyFrom(av(shape=tf.TensorShape([1, 8, 8, 3]).as_proto()))
    up = tf.compat.v1.NodeDef(name="up", op="ResizeBilinear", input=["input", "up/size"])
    up.attr["T"].CopyFrom(f32)
    flat = tf.compat.v1.NodeDef(name="output", op="Reshape", input=["up", "flat/shape"])
    flat.attr["T"].CopyFrom(f32)
    sizes = [const("up/size", np.array([16, 16], np.int32)), const("flat/shape", np.array([1, 768], np.int32))]
    gd.node.extend([placeholder, sizes[0], up, sizes[1], flat])
    return gd


def test_resize_input_rescales_the_size_constants() -> None:
    constants = {"up/size": ["h", "w"], "flat/shape": ["1", "hw"]}
    resized = tfjs.resize_input(_resizable_graph(), "input:0", (8, 8), (12, 4), constants)
    x = np.random.default_rng(2).uniform(0, 1, (1, 4, 12, 3)).astype(np.float32)
    expected = tf.reshape(tf.compat.v1.image.resize_bilinear(x, [8, 24]), [1, -1]).numpy()
    got = _run(resized, x)
    assert got.shape == (1, 8 * 24 * 3)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    unchanged = tfjs.resize_input(_resizable_graph(), "input:0", (8, 8), (8, 8), constants)
    assert unchanged == _resizable_graph()


@pytest.mark.parametrize(
    ("size", "constants", "message"),
    [
        ((12, 12), {"flat/shape": ["h", "hw"]}, r"to 12x12: constant 'flat/shape' \(1 at 8x8\) would not be a whole"),
        ((16, 16), {"nope": ["h"]}, r"no constant node named 'nope'"),
        ((16, 16), {"up/size": ["h"]}, r"constant 'up/size' has 2 element\(s\), given scales \['h'\]"),
        ((16, 16), {"up/size": ["h", "x"]}, r"given scales \['h', 'x'\]"),
    ],
)
def test_resize_input_errors(size: tuple[int, int], constants: dict, message: str) -> None:
    with pytest.raises(TfjsError, match=message):
        tfjs.resize_input(_resizable_graph(), "input:0", (8, 8), size, constants)
    with pytest.raises(TfjsError, match="'up:0' is not a placeholder"):
        tfjs.resize_input(_resizable_graph(), "up:0", (8, 8), (16, 16), {})
