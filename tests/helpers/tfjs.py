"""Tiny tfjs models and npm-style tarballs, built on the fly for loader and model-store tests."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np


class TinyTfjs:
    """A tiny conv → depthwise → matmul network written as a tfjs model (fused ops, either layout).

    ``write(folder, layout, quantization)`` writes ``model.json`` + ``weights.bin`` (``layout="new"``)
    or ``tensorflowjs_model.pb`` + ``weights_manifest.json`` + two shards (``"old"``); weights are
    float32, ``float16`` or ``uint8``-quantized. ``reference(x, weights)`` computes the expected
    output with plain TensorFlow ops from the weights the loader should reconstruct.
    """

    input_name = "input"
    output_name = "output"
    shape = (1, 8, 8, 3)

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.weights: dict[str, np.ndarray] = {
            "conv/weights": (rng.normal(size=(3, 3, 3, 4)) * 0.5).astype(np.float32),
            "conv/bias": rng.normal(size=4).astype(np.float32),
            "dw/weights": (rng.normal(size=(3, 3, 4, 1)) * 0.5).astype(np.float32),
            "dw/bias": rng.normal(size=4).astype(np.float32),
            "flat/shape": np.array([1, 256], np.int64),
            "fc/weights": (rng.normal(size=(256, 5)) * 0.1).astype(np.float32),
            "fc/bias": rng.normal(size=5).astype(np.float32),
        }

    def graph_def(self) -> Any:
        """The tfjs-style GraphDef: fused ops, Const nodes without values."""
        import tensorflow as tf

        def node(name: str, op: str, inputs: list[str] = (), **attrs: Any) -> Any:
            n = tf.compat.v1.NodeDef(name=name, op=op, input=list(inputs))
            for key, value in attrs.items():
                n.attr[key].CopyFrom(value)
            return n

        av = tf.compat.v1.AttrValue
        f32 = av(type=tf.float32.as_datatype_enum)
        ones = av(list=av.ListValue(i=[1, 1, 1, 1]))
        conv_common = {
            "T": f32,
            "strides": ones,
            "padding": av(s=b"SAME"),
            "data_format": av(s=b"NHWC"),
            "dilations": ones,
            "num_args": av(i=1),
        }
        gd = tf.compat.v1.GraphDef()
        gd.node.extend(
            [
                node(self.input_name, "Placeholder", dtype=f32, shape=av(shape=tf.TensorShape(self.shape).as_proto())),
                *[
                    node(name, "Const", dtype=av(type=tf.as_dtype(v.dtype).as_datatype_enum))
                    for name, v in self.weights.items()
                ],
                node(
                    "conv",
                    "_FusedConv2D",
                    [self.input_name, "conv/weights", "conv/bias"],
                    **conv_common,
                    fused_ops=av(list=av.ListValue(s=[b"BiasAdd", b"Relu"])),
                    epsilon=av(f=0.0),
                ),
                node(
                    "dw",
                    "FusedDepthwiseConv2dNative",
                    ["conv", "dw/weights", "dw/bias"],
                    **conv_common,
                    fused_ops=av(list=av.ListValue(s=[b"BiasAdd", b"Relu6"])),
                ),
                node("flat", "Reshape", ["dw", "flat/shape"], T=f32, Tshape=av(type=tf.int64.as_datatype_enum)),
                node(
                    "fc",
                    "_FusedMatMul",
                    ["flat", "fc/weights", "fc/bias"],
                    T=f32,
                    num_args=av(i=1),
                    transpose_a=av(b=False),
                    transpose_b=av(b=False),
                    leakyrelu_alpha=av(f=0.1),
                    fused_ops=av(list=av.ListValue(s=[b"BiasAdd", b"LeakyRelu"])),
                ),
                node(self.output_name, "Sigmoid", ["fc"], T=f32),
            ]
        )
        return gd

    @staticmethod
    def reference(x: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
        """The network in plain TensorFlow ops."""
        import tensorflow as tf

        y = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w["conv/weights"], 1, "SAME"), w["conv/bias"]))
        y = tf.nn.relu6(tf.nn.bias_add(tf.nn.depthwise_conv2d(y, w["dw/weights"], [1, 1, 1, 1], "SAME"), w["dw/bias"]))
        y = tf.reshape(y, [1, 256])
        y = tf.nn.leaky_relu(tf.nn.bias_add(tf.matmul(y, w["fc/weights"]), w["fc/bias"]), alpha=0.1)
        return tf.sigmoid(y).numpy()

    def encode(self, quantization: str | None) -> tuple[list[dict[str, Any]], bytes, dict[str, np.ndarray]]:
        """Weight specs, the concatenated bytes, and the weights as the loader should decode them."""
        specs, chunks, decoded = [], [], {}
        for name, value in self.weights.items():
            spec: dict[str, Any] = {"name": name, "shape": list(value.shape)}
            if value.dtype == np.int64:  # tfjs stores int64 as int32
                spec["dtype"] = "int32"
                chunks.append(value.astype("<i4").tobytes())
                decoded[name] = value
            elif quantization == "float16":
                spec.update(dtype="float32", quantization={"dtype": "float16", "original_dtype": "float32"})
                chunks.append(value.astype("<f2").tobytes())
                decoded[name] = value.astype(np.float16).astype(np.float32)
            elif quantization == "uint8":
                lo, hi = float(value.min()), float(value.max())
                scale = (hi - lo) / 255 or 1.0
                q = np.round((value - lo) / scale).astype(np.uint8)
                spec.update(
                    dtype="float32",
                    quantization={"dtype": "uint8", "scale": scale, "min": lo, "original_dtype": "float32"},
                )
                chunks.append(q.tobytes())
                decoded[name] = (q.astype(np.float32) * np.float32(scale) + np.float32(lo)).astype(np.float32)
            else:
                spec["dtype"] = "float32"
                chunks.append(value.astype("<f4").tobytes())
                decoded[name] = value
            specs.append(spec)
        return specs, b"".join(chunks), decoded

    def write(self, folder: Path, layout: str = "new", quantization: str | None = None) -> dict[str, np.ndarray]:
        """Write the model; returns the decoded weights the loader should reproduce."""
        from google.protobuf import json_format

        folder.mkdir(parents=True, exist_ok=True)
        specs, data, decoded = self.encode(quantization)
        gd = self.graph_def()
        if layout == "new":
            (folder / "weights.bin").write_bytes(data)
            model = {
                "format": "graph-model",
                "modelTopology": json_format.MessageToDict(gd),
                "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}],
            }
            (folder / "model.json").write_text(json.dumps(model))
        else:
            cut = len(data) // 2 + 1  # shard boundary in the middle of a weight
            (folder / "group1-shard1of2.bin").write_bytes(data[:cut])
            (folder / "group1-shard2of2.bin").write_bytes(data[cut:])
            (folder / "tensorflowjs_model.pb").write_bytes(gd.SerializeToString())
            manifest = [{"paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"], "weights": specs}]
            (folder / "weights_manifest.json").write_text(json.dumps(manifest))
        return decoded


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
    """Add a member to an open tarball."""
    info = tarfile.TarInfo(name)
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.type, info.linkname = kind, link
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def cache_leftovers(cache: Path) -> list[str]:
    """Names in the cache folder (empty when nothing was left behind)."""
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []
