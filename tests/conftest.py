"""Shared test fixtures: ``../shared`` lookup, tiny tfjs models built on the fly, real converted models.

Real-model fixtures need ``../shared`` (next to the repository); they skip with a reason naming
the missing path when it is absent. The real models are converted once per session into a
temporary ``ORCHESTRATOR_MODELS`` folder.

Pipeline helpers (no ../shared needed): `make_video`, `write_fixture`, `validate_records`,
`run_cli`, `write_pipeline`, as plain functions (``from conftest import make_video``) and fixtures.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
HAND_TARBALL = "npm/handtrackjs-0.0.13.tgz"
CENTERNET_TARBALL = "npm/vladmandic-human-3.3.6.tgz"


def shared_path(relative: str) -> Path:
    """``../shared/<relative>``, or skip the test naming the missing path."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the repository)")
    return path


# --------------------------------------------------------------------------- tiny tfjs models
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


@pytest.fixture
def tiny_tfjs() -> TinyTfjs:
    """A `TinyTfjs` builder."""
    return TinyTfjs()


# --------------------------------------------------------------------------- tiny model packages
def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
    """Add a member to an open tarball."""
    info = tarfile.TarInfo(name)
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.type, info.linkname = kind, link
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@pytest.fixture
def tiny_package(tmp_path: Path, tiny_tfjs: TinyTfjs) -> SimpleNamespace:
    """A tiny npm-style tarball with a tfjs model, a manifests folder describing it, and an empty cache.

    ``make_tarball(extra=..., skip=...)`` rebuilds the tarball (adding members or leaving files
    out) and ``pin(path)`` rewrites the manifest's integrity to match any file.
    """
    from orchestrator.modelstore import ModelStore, sri_sha512

    model_dir = tmp_path / "src"
    tiny_tfjs.write(model_dir, "new")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    tarball = tmp_path / "tiny-model-1.0.0.tgz"
    manifest = {
        "name": "tiny.model",
        "package": "tiny-model",
        "version": "1.0.0",
        "integrity": "sha512-" + "A" * 86 + "==",
        "licence": "MIT",
        "source": "package/model/",
        "graph": "model.json",
        "files": ["model.json", "weights.bin"],
        "labels": ["a", "b", "c", "d", "e"],
        "input": {"tensor": "input:0", "size": [8, 8]},
        "outputs": ["output:0"],
        "precisions": ["fp32", "int8"],
    }

    def pin(path: Path, **changes: Any) -> None:
        (manifests / "tiny.yaml").write_text(yaml.safe_dump({**manifest, **changes, "integrity": sri_sha512(path)}))

    def make_tarball(extra: list[tuple[str, bytes, bytes, str]] = (), skip: tuple[str, ...] = ()) -> Path:
        with tarfile.open(tarball, "w:gz") as tar:
            add_bytes(tar, "package/package.json", b'{"name": "tiny-model", "version": "1.0.0"}')
            for file in ("model.json", "weights.bin"):
                if file not in skip:
                    add_bytes(tar, f"package/model/{file}", (model_dir / file).read_bytes())
            for name, data, kind, link in extra:
                add_bytes(tar, name, data, kind, link)
        pin(tarball)
        return tarball

    make_tarball()
    cache = tmp_path / "cache"
    return SimpleNamespace(
        tarball=tarball,
        manifests=manifests,
        cache=cache,
        pin=pin,
        make_tarball=make_tarball,
        store=lambda: ModelStore(cache, manifests),
        model=tiny_tfjs,
    )


def cache_leftovers(cache: Path) -> list[str]:
    """Names in the cache folder (empty when nothing was left behind)."""
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


# --------------------------------------------------------------------------- real models
@pytest.fixture(scope="session")
def real_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both real models imported (and the hand model quantized on 20 EgoHands frames) into a temp cache."""
    from orchestrator.modelstore import ModelStore

    tarballs = [shared_path(HAND_TARBALL), shared_path(CENTERNET_TARBALL)]
    calibration = shared_path("data/egohands/train")
    cache = tmp_path_factory.mktemp("models")
    store = ModelStore(cache)
    store.import_tarballs(tarballs)
    store.quantize("hands.egohands", calibration, count=20)
    return cache


@pytest.fixture
def real_models(real_model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`real_model_cache` as ``ORCHESTRATOR_MODELS`` for one test."""
    monkeypatch.setenv("ORCHESTRATOR_MODELS", str(real_model_cache))
    yield real_model_cache


def read_rgb(path: Path) -> np.ndarray:
    """An image file as RGB uint8."""
    from orchestrator.modelstore import read_rgb as read

    return read(path)


# --------------------------------------------------------------------------- pipelines, videos, records, the CLI
# (helpers for orchestrator and runtime tests; plain functions, also offered as fixtures of the same names)
REPO_ROOT = REPO
DATA_DIR = REPO / "tests" / "data"

# pytest puts tests/ on sys.path (rootdir conftest, prepend mode) and tests/orchestrator/ has no
# __init__.py: without the repo root ahead of it, `import orchestrator` under a bare `pytest`
# (which, unlike `python -m pytest`, does not add the cwd) would find tests/orchestrator as a
# namespace package before the editable install's finder gets a chance.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def make_video(path: str | Path, frames: int = 30, size: tuple[int, int] = (320, 240), fps: float = 30) -> Path:
    """Write an MJPG ``.avi`` of ``frames`` frames (``size`` is width, height) with moving rectangles.

    Frame ``i`` has a red rectangle at x = 10 + 4i and a green one at y = 10 + 3i (wrapping), on a
    grey background, so consecutive frames differ.
    """
    import cv2

    path = Path(path)
    if path.suffix.lower() != ".avi":
        raise ValueError(f"make_video writes MJPG .avi files, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), float(fps), (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cv2.VideoWriter cannot write {path}")
    try:
        for i in range(frames):
            image = np.full((height, width, 3), 96, np.uint8)
            x = (10 + 4 * i) % max(1, width - 40)
            y = (10 + 3 * i) % max(1, height - 40)
            cv2.rectangle(image, (x, 20), (x + 40, 60), (0, 0, 255), -1)
            cv2.rectangle(image, (20, y), (60, y + 40), (0, 255, 0), -1)
            writer.write(image)
    finally:
        writer.release()
    if not path.exists() or path.stat().st_size == 0:
        raise RuntimeError(f"cv2.VideoWriter wrote nothing to {path}")
    return path


def write_fixture(
    path: str | Path, frames: Mapping[int, Sequence[Mapping[str, Any]]], labels: Sequence[str] = ("hand",)
) -> Path:
    """Write a ``testing.scripted`` fixture: ``frames`` maps a frame index to boxes.

    Each box is a dict with ``box`` (x1, y1, x2, y2) and optionally ``score`` (default 0.9) and
    ``label`` (default: the first label). Written as YAML, or JSON if ``path`` ends in ``.json``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "labels": list(labels),
        "frames": {
            int(index): [
                {
                    "box": [float(v) for v in entry["box"]],
                    "score": float(entry.get("score", 0.9)),
                    "label": entry.get("label", labels[0]),
                }
                for entry in entries
            ]
            for index, entries in frames.items()
        },
    }
    text = json.dumps(data) if path.suffix == ".json" else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def validate_records(records: Sequence[Mapping[str, Any]]) -> None:
    """Check every record against the events JSON Schema, and ``seq`` counting 0, 1, 2, ...

    Raises ``jsonschema.ValidationError`` (or AssertionError for ``seq``) naming the record.
    """
    import jsonschema

    from orchestrator.events import events_schema

    validator = jsonschema.Draft202012Validator(events_schema())
    for index, record in enumerate(records):
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
        if errors:
            raise jsonschema.ValidationError(f"record {index} ({record.get('type')!r}): {errors[0].message}")
        assert record["seq"] == index, f"record {index} has seq {record['seq']}"


def run_cli(
    *args: str | os.PathLike[str],
    cwd: str | Path | None = None,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m orchestrator ARGS`` in a subprocess; returns the CompletedProcess (text).

    ``cwd`` defaults to the repository root; ``env`` adds to (or overrides) the current environment.
    """
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *map(str, args)],
        cwd=str(cwd if cwd is not None else REPO),
        capture_output=True,
        text=True,
        errors="replace",  # native libraries may print raw bytes on stderr
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def write_pipeline(path: str | Path, text: str) -> Path:
    """Write pipeline YAML ``text`` (dedented) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(name="make_video")
def make_video_fixture() -> Callable[..., Path]:
    return make_video


@pytest.fixture(name="write_fixture")
def write_fixture_fixture() -> Callable[..., Path]:
    return write_fixture


@pytest.fixture(name="validate_records")
def validate_records_fixture() -> Callable[[Sequence[Mapping[str, Any]]], None]:
    return validate_records


@pytest.fixture(name="run_cli")
def run_cli_fixture() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


@pytest.fixture(scope="session")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30-frame 320x240 MJPG video shared by the session (do not modify)."""
    return make_video(tmp_path_factory.mktemp("video") / "small.avi")
