"""Load TensorFlow.js graph models back into a TensorFlow ``GraphDef``, and run one in TensorFlow.

Two on-disk layouts exist:

* the old one (tfjs-converter 0.x): ``tensorflowjs_model.pb`` (a binary ``GraphDef`` whose
  ``Const`` nodes have no values) next to ``weights_manifest.json`` and the weight shards;
* the graph-model one (``model.json``): ``modelTopology`` is the ``GraphDef`` in protobuf JSON
  and ``weightsManifest`` lists the weights.

In both, the weights are concatenated in manifest order across each group's shards. They may be
float16 (``quantization.dtype: float16``) or affine-quantized to uint8/uint16 (``q * scale + min``).
tfjs also fuses ops TensorFlow's converters do not all know (``_FusedConv2D``,
``FusedDepthwiseConv2dNative``, ``_FusedMatMul``); `split_fused_ops` turns them back into
standard ops.

Example:
    >>> graph_def = load_graph_def("package/models/centernet.json")  # doctest: +SKIP
    >>> runner = TFGraphRunner(graph_def, ["tower_0/images:0"], ["tower_0/detections:0"])  # doctest: +SKIP
    >>> (detections,) = runner.run([image_512x512x3[None]])  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from detectors.errors import TfjsError

GraphDef = tf.compat.v1.GraphDef

#: Weight file names of the old layout.
OLD_GRAPH_FILE = "tensorflowjs_model.pb"
OLD_MANIFEST_FILE = "weights_manifest.json"

_PLAIN_DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("bool"),
    "uint8": np.dtype("uint8"),
    "complex64": np.dtype("<c8"),
}
_QUANTIZED_DTYPES: dict[str, np.dtype] = {
    "float16": np.dtype("<f2"),
    "uint8": np.dtype("uint8"),
    "uint16": np.dtype("<u2"),
}
#: tfjs activation names in ``fused_ops`` → TensorFlow op types.
_ACTIVATIONS = {
    "Relu": "Relu",
    "Relu6": "Relu6",
    "Elu": "Elu",
    "Selu": "Selu",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "LeakyRelu": "LeakyRelu",
}
_BASE_OPS = {
    "_FusedConv2D": "Conv2D",
    "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
    "_FusedMatMul": "MatMul",
}
_BASE_ATTRS = {
    "Conv2D": ("T", "strides", "padding", "explicit_paddings", "data_format", "dilations", "use_cudnn_on_gpu"),
    "DepthwiseConv2dNative": ("T", "strides", "padding", "explicit_paddings", "data_format", "dilations"),
    "MatMul": ("T", "transpose_a", "transpose_b"),
}



# --------------------------------------------------------------------------- loading
def load_graph_def(path: str | Path) -> GraphDef:
    """Load a tfjs graph model (either layout) as a ``GraphDef`` with weights and standard ops.

    ``path`` is the model folder, its ``model.json`` (any name ending ``.json``) or its
    ``tensorflowjs_model.pb``.

    Example:
        >>> gd = load_graph_def("package/models/web/ssdlitemobilenetv2")  # doctest: +SKIP
        >>> sorted({n.op for n in gd.node})[:3]  # doctest: +SKIP
        ['Add', 'AddN', 'BiasAdd']
    """
    path = Path(path)
    if path.is_dir():
        if (path / OLD_GRAPH_FILE).is_file():
            path = path / OLD_GRAPH_FILE
        else:
            candidates = sorted(p for p in path.glob("*.json") if p.name != OLD_MANIFEST_FILE)
            if len(candidates) != 1:
                raise TfjsError(
                    f"{path}: expected {OLD_GRAPH_FILE} or exactly one model .json, found {len(candidates)}"
                )
            path = candidates[0]
    if not path.is_file():
        raise TfjsError(f"{path}: tfjs model file not found")
    if path.suffix == ".json":
        graph_def, manifest = _read_model_json(path)
    else:
        graph_def, manifest = _read_old_layout(path)
    weights = read_weights(manifest, path.parent)
    set_weights(graph_def, weights, source=path)
    return split_fused_ops(graph_def)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TfjsError(f"{path}: file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TfjsError(f"{path}: not valid JSON ({exc})") from None


def _read_model_json(path: Path) -> tuple[GraphDef, list[dict[str, Any]]]:
    model = _read_json(path)
    if not isinstance(model, dict) or "modelTopology" not in model or "weightsManifest" not in model:
        raise TfjsError(f"{path}: expected a tfjs graph model with modelTopology and weightsManifest")
    graph_def = GraphDef()
    try:
        json_format.ParseDict(model["modelTopology"], graph_def, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise TfjsError(f"{path}: modelTopology is not a GraphDef ({exc})") from None
    return graph_def, model["weightsManifest"]


def _read_old_layout(path: Path) -> tuple[GraphDef, list[dict[str, Any]]]:
    graph_def = GraphDef()
    try:
        graph_def.ParseFromString(path.read_bytes())
    except DecodeError as exc:
        raise TfjsError(f"{path}: not a binary GraphDef ({exc})") from None
    manifest = _read_json(path.parent / OLD_MANIFEST_FILE)
    return graph_def, manifest


# --------------------------------------------------------------------------- weights
def read_weights(manifest: Sequence[Mapping[str, Any]], base_dir: str | Path) -> dict[str, np.ndarray]:
    """Decode every weight of a tfjs ``weightsManifest`` (list of groups) into float32/int32/... arrays.

    Each group's shards are concatenated in order; weights follow one another in that byte
    stream. float16 weights become float32; uint8/uint16-quantized ones become ``q * scale + min``
    (rounded back to integers when the original dtype was an integer type).

    Example:
        >>> manifest = [{"paths": ["w.bin"], "weights": [{"name": "w", "shape": [2], "dtype": "float32"}]}]
        >>> read_weights(manifest, "model_dir")["w"]  # doctest: +SKIP
        array([1., 2.], dtype=float32)
    """
    base_dir = Path(base_dir)
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join(_read_shard(base_dir / p) for p in group.get("paths", []))
        offset = 0
        for spec in group.get("weights", []):
            array, size = _decode_weight(spec, data, offset, base_dir)
            weights[spec["name"]] = array
            offset += size
        if offset != len(data):
            raise TfjsError(
                f"{base_dir / group['paths'][0]}: weights use {offset} bytes but the shards hold {len(data)}"
            )
    return weights


def _read_shard(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TfjsError(f"{path}: weight shard not found") from None


def _decode_weight(spec: Mapping[str, Any], data: bytes, offset: int, base_dir: Path) -> tuple[np.ndarray, int]:
    name, dtype = spec["name"], spec["dtype"]
    shape = [int(d) for d in spec.get("shape", [])]
    count = int(np.prod(shape, dtype=np.int64))
    quant = spec.get("quantization")
    if dtype == "string":
        return _decode_strings(data, offset, count, shape)
    if quant:
        qtype = quant.get("dtype")
        if qtype not in _QUANTIZED_DTYPES:
            raise TfjsError(f"{base_dir}: weight {name!r} has unsupported quantization dtype {qtype!r}")
        stored = _QUANTIZED_DTYPES[qtype]
    elif dtype in _PLAIN_DTYPES:
        stored = _PLAIN_DTYPES[dtype]
    else:
        raise TfjsError(f"{base_dir}: weight {name!r} has unsupported dtype {dtype!r}")
    size = count * stored.itemsize
    if offset + size > len(data):
        raise TfjsError(f"{base_dir}: weight {name!r} runs past the end of its shards (truncated file?)")
    raw = np.frombuffer(data, dtype=stored, count=count, offset=offset).reshape(shape)
    if not quant:
        return raw.copy(), size
    if quant["dtype"] == "float16":
        return raw.astype(np.float32), size
    values = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
    if quant.get("original_dtype", dtype) in ("int32", "int64", "uint8"):
        values = np.round(values).astype(np.int32)
    return values, size


def _decode_strings(data: bytes, offset: int, count: int, shape: list[int]) -> tuple[np.ndarray, int]:
    start, items = offset, []
    for _ in range(count):
        length = int.from_bytes(data[offset : offset + 4], "little")
        items.append(data[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return np.array(items, dtype=object).reshape(shape), offset - start


def set_weights(graph_def: GraphDef, weights: Mapping[str, np.ndarray], source: str | Path = "graph") -> None:
    """Write each weight into the ``Const`` node of the same name, cast to that node's dtype.

    tfjs stores int64 tensors as int32; the cast restores them. A weight without a ``Const``
    node is an error.

    Example:
        >>> set_weights(graph_def, {"conv/weights": np.zeros((3, 3, 3, 8), np.float32)})  # doctest: +SKIP
    """
    nodes = {node.name: node for node in graph_def.node}
    for name, value in weights.items():
        node = nodes.get(name)
        if node is None or node.op != "Const":
            raise TfjsError(f"{source}: weight {name!r} has no Const node of that name in the graph")
        dtype = tf.dtypes.as_dtype(node.attr["dtype"].type)
        array = value if dtype == tf.string else np.asarray(value).astype(dtype.as_numpy_dtype)
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(array, dtype=dtype, shape=array.shape))


# --------------------------------------------------------------------------- fused ops
def split_fused_ops(graph_def: GraphDef) -> GraphDef:
    """Replace tfjs/grappler fused ops by their standard parts; returns a new ``GraphDef``.

    ``_FusedConv2D``, ``FusedDepthwiseConv2dNative`` and ``_FusedMatMul`` become
    ``Conv2D``/``DepthwiseConv2dNative``/``MatMul`` followed by ``BiasAdd`` (or
    ``FusedBatchNormV3``) and an activation (Relu, Relu6, Elu, Selu, Sigmoid, Tanh, LeakyRelu,
    Prelu). The last op keeps the fused node's name, so its consumers stay connected.

    Example:
        >>> [n.op for n in split_fused_ops(gd).node if n.name.startswith("conv")]  # doctest: +SKIP
        ['Conv2D', 'BiasAdd', 'Relu']
    """
    out = GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    taken = {node.name for node in graph_def.node}
    for node in graph_def.node:
        if node.op in _BASE_OPS:
            out.node.extend(_split_node(node, taken))
        else:
            out.node.add().CopyFrom(node)
    return out


def _split_node(node: Any, taken: set[str]) -> list[Any]:
    fused = [s.decode() for s in node.attr["fused_ops"].list.s]
    num_args = node.attr["num_args"].i if "num_args" in node.attr else 0
    data = [i for i in node.input if not i.startswith("^")]
    control = [i for i in node.input if i.startswith("^")]
    x, kernel, args = data[0], data[1], data[2:]
    if len(args) != num_args:
        raise TfjsError(f"fused node {node.name!r}: {len(args)} extra inputs but num_args is {num_args}")
    steps: list[tuple[str, list[str], dict[str, Any]]] = []
    base = _BASE_OPS[node.op]
    steps.append((base, [x, kernel, *control], {k: node.attr[k] for k in _BASE_ATTRS[base] if k in node.attr}))
    t_attr = {"T": node.attr["T"]}
    fmt = {"data_format": node.attr["data_format"]} if "data_format" in node.attr else {}
    for op in fused:
        if op == "BiasAdd":
            steps.append(("BiasAdd", [args.pop(0)], {**t_attr, **fmt}))
        elif op == "FusedBatchNorm":
            bn = {**t_attr, **fmt, "U": node.attr["T"], "epsilon": node.attr["epsilon"]}
            steps.append(("FusedBatchNormV3", args[:4], bn))
            args = args[4:]
        elif op == "Prelu":
            steps.append(("Prelu", [args.pop(0)], t_attr))
        elif op in _ACTIVATIONS:
            attrs = dict(t_attr)
            if op == "LeakyRelu" and "leakyrelu_alpha" in node.attr:
                attrs["alpha"] = node.attr["leakyrelu_alpha"]
            steps.append((_ACTIVATIONS[op], [], attrs))
        else:
            raise TfjsError(f"fused node {node.name!r}: unsupported fused op {op!r}")
    return _emit_chain(node, steps, taken)


def _emit_chain(node: Any, steps: list[tuple[str, list[str], dict[str, Any]]], taken: set[str]) -> list[Any]:
    nodes: list[Any] = []
    previous = None
    for index, (op, inputs, attrs) in enumerate(steps):
        last = index == len(steps) - 1
        name = node.name if last else _fresh_name(f"{node.name}/{op}", taken)
        if op == "Prelu":
            nodes.extend(_prelu_nodes(name, previous, inputs[0], attrs, taken, node.device))
        else:
            new = tf.compat.v1.NodeDef(name=name, op=op, device=node.device)
            new.input.extend(([previous] if previous is not None else []) + inputs)
            for key, value in attrs.items():
                new.attr[key].CopyFrom(value)
            if op == "FusedBatchNormV3":
                new.attr["is_training"].b = False
            nodes.append(new)
        previous = name
    return nodes


def _prelu_nodes(name: str, x: str | None, alpha: str, attrs: dict[str, Any], taken: set[str], device: str) -> list:
    """``prelu(x) = relu(x) - alpha * relu(-x)`` in standard ops."""
    if x is None:
        raise TfjsError(f"fused node {name!r}: Prelu cannot come first")
    parts = []
    for suffix, op, inputs in (
        ("pos", "Relu", [x]),
        ("negx", "Neg", [x]),
        ("neg", "Relu", [None]),
        ("scaled", "Mul", [alpha, None]),
    ):
        part = tf.compat.v1.NodeDef(name=_fresh_name(f"{name}/prelu_{suffix}", taken), op=op, device=device)
        part.input.extend(i if i is not None else parts[-1].name for i in inputs)
        part.attr["T"].CopyFrom(attrs["T"])
        parts.append(part)
    out = tf.compat.v1.NodeDef(name=name, op="Sub", device=device, input=[parts[0].name, parts[-1].name])
    out.attr["T"].CopyFrom(attrs["T"])
    return [*parts, out]


def _fresh_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


# --------------------------------------------------------------------------- cutting
def tensor_name(name: str) -> str:
    """``"node"`` → ``"node:0"``; names with an output index are returned unchanged."""
    return name if ":" in name else f"{name}:0"


def cut_graph(
    graph_def: GraphDef,
    inputs: Mapping[str, Sequence[int]],
    outputs: Iterable[str],
    dtype: tf.DType = tf.float32,
) -> GraphDef:
    """Make the tensors in ``inputs`` static-shape placeholders and keep only what ``outputs`` need.

    Used to start a graph after preprocessing it cannot convert (the hand model's ``while`` loop
    of per-image resizes). Each input tensor must be output 0 of its node; the node is replaced
    by a ``Placeholder`` of the same name, so consumers stay connected.

    Example:
        >>> cut = cut_graph(gd, {"Preprocessor/map/TensorArrayStack/TensorArrayGatherV3:0": [1, 300, 300, 3]},
        ...                 ["Postprocessor/Slice:0"])  # doctest: +SKIP
    """
    replaced = {}
    for name, shape in inputs.items():
        node_name, _, index = tensor_name(name).partition(":")
        if index != "0":
            raise TfjsError(f"cannot cut at {name!r}: only output 0 of a node can become an input")
        replaced[node_name] = [int(d) for d in shape]
    work = GraphDef()
    work.CopyFrom(graph_def)
    found = set()
    for node in work.node:
        if node.name in replaced:
            name, device = node.name, node.device
            node.Clear()
            node.name, node.op, node.device = name, "Placeholder", device
            node.attr["dtype"].type = dtype.as_datatype_enum
            node.attr["shape"].shape.CopyFrom(tf.TensorShape(replaced[name]).as_proto())
            found.add(name)
    missing = set(replaced) - found
    if missing:
        raise TfjsError(f"cannot cut the graph: no node named {sorted(missing)[0]!r}")
    return prune(work, outputs)


#: How an element of a size constant follows the input (see `resize_input`).
SIZE_SCALES = ("h", "w", "hw", "1")


def resize_input(
    graph_def: GraphDef,
    input_tensor: str,
    own_size: tuple[int, int],
    size: tuple[int, int],
    constants: Mapping[str, Sequence[str]],
) -> GraphDef:
    """The graph for another input ``size``: its ``Placeholder`` and its size constants rescaled.

    A fully convolutional detector runs at any input size whose strides divide it, but a frozen
    graph holds sizes worked out for its own input as constants: upsampling targets, the output
    grid's width used to decode an index, the number of grid cells in a reshape. ``constants``
    names each such ``Const`` node and, per element, how it follows the input: ``"h"`` (with the
    height), ``"w"`` (width), ``"hw"`` (their product) or ``"1"`` (kept). Sizes are
    ``(width, height)`` in pixels; ``own_size`` is the one the graph was made for.

    Raises:
        TfjsError: no such input or constant node, an element count that does not match, or a
            size the graph's strides do not divide (a rescaled value that is not a whole number).

    Example:
        >>> resized = resize_input(gd, "images:0", (512, 512), (512, 384), {"grid_width": ["w"]})
        ... # doctest: +SKIP
    """
    own_w, own_h = (int(v) for v in own_size)
    new_w, new_h = (int(v) for v in size)
    factors = {"h": (new_h, own_h), "w": (new_w, own_w), "hw": (new_h * new_w, own_h * own_w), "1": (1, 1)}
    input_node = tensor_name(input_tensor).partition(":")[0]
    work = GraphDef()
    work.CopyFrom(graph_def)
    nodes = {node.name: node for node in work.node}
    node = nodes.get(input_node)
    if node is None or node.op != "Placeholder":
        raise TfjsError(f"cannot resize the input: {input_tensor!r} is not a placeholder of the graph")
    node.attr["shape"].shape.CopyFrom(tf.TensorShape([1, new_h, new_w, 3]).as_proto())
    for name, scales in constants.items():
        const = nodes.get(name)
        if const is None or const.op != "Const":
            raise TfjsError(f"cannot resize the input: no constant node named {name!r}")
        value = tf.make_ndarray(const.attr["value"].tensor)
        if value.size != len(scales) or any(scale not in factors for scale in scales):
            raise TfjsError(
                f"cannot resize the input: constant {name!r} has {value.size} element(s), given scales {list(scales)}"
            )
        flat = value.reshape(-1).astype(np.int64)
        for i, scale in enumerate(scales):
            numerator, denominator = factors[scale]
            if (int(flat[i]) * numerator) % denominator:
                raise TfjsError(
                    f"cannot resize the input to {new_w}x{new_h}: constant {name!r} ({int(flat[i])} at "
                    f"{own_w}x{own_h}) would not be a whole number; use a size the model's strides divide"
                )
            flat[i] = int(flat[i]) * numerator // denominator
        const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(flat.reshape(value.shape).astype(value.dtype)))
    return work


def prune(graph_def: GraphDef, outputs: Iterable[str]) -> GraphDef:
    """Keep only the nodes ``outputs`` depend on (data and control inputs), in the original order."""
    nodes = {node.name: node for node in graph_def.node}
    stack = [tensor_name(o).partition(":")[0] for o in outputs]
    needed: set[str] = set()
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        if name not in nodes:
            raise TfjsError(f"graph has no node named {name!r}")
        needed.add(name)
        stack.extend(i.lstrip("^").partition(":")[0] for i in nodes[name].input)
    out = GraphDef()
    out.versions.CopyFrom(graph_def.versions)
    out.library.CopyFrom(graph_def.library)
    out.node.extend(node for node in graph_def.node if node.name in needed)
    return out


def read_graph_def(path: str | Path) -> GraphDef:
    """Read a binary ``GraphDef`` (``.pb``) such as the model store's frozen ``graph.pb``."""
    path = Path(path)
    graph_def = GraphDef()
    try:
        graph_def.ParseFromString(path.read_bytes())
    except FileNotFoundError:
        raise TfjsError(f"{path}: file not found") from None
    except DecodeError as exc:
        raise TfjsError(f"{path}: not a binary GraphDef ({exc})") from None
    return graph_def


# --------------------------------------------------------------------------- running
class TFGraphRunner:
    """Run a frozen ``GraphDef`` in TensorFlow (a v1 session with its own thread pool).

    Example:
        >>> runner = TFGraphRunner(gd, ["x:0"], ["y:0"], num_threads=2)  # doctest: +SKIP
        >>> (y,) = runner.run([np.zeros((1, 4), np.float32)])  # doctest: +SKIP
        >>> runner.close()  # doctest: +SKIP
    """

    def __init__(
        self, graph_def: GraphDef, inputs: Sequence[str], outputs: Sequence[str], num_threads: int | None = None
    ) -> None:
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")
        try:
            self._inputs = [self.graph.get_tensor_by_name(tensor_name(n)) for n in inputs]
            self._outputs = [self.graph.get_tensor_by_name(tensor_name(n)) for n in outputs]
        except (KeyError, ValueError) as exc:
            raise TfjsError(f"graph has no such tensor: {exc}") from None
        threads = int(num_threads or 0)
        config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
        self._session: Any = tf.compat.v1.Session(graph=self.graph, config=config)

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Feed ``arrays`` (in input order) and return the outputs (in output order)."""
        if self._session is None:
            raise RuntimeError("TFGraphRunner is closed")
        return list(self._session.run(self._outputs, feed_dict=dict(zip(self._inputs, arrays, strict=True))))

    def close(self) -> None:
        """Release the session. Safe to call twice."""
        if self._session is not None:
            self._session.close()
            self._session = None
