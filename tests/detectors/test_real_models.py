"""The real models from ../shared/npm: runtimes agree, the plugin feeds RGB, accuracy holds.

Both models are converted once per session (fixture ``real_model_cache`` in conftest); every test
here skips, naming the missing path, when ../shared is absent.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
from helpers import HAND_TARBALL, read_rgb, shared_path

from detectors.centernet import CenterNetDetector
from detectors.detections import Detections
from detectors.egohands import EgoHandsDetector
from detectors.geometry import iou_matrix, nms
from orchestrator.modelstore import bind_model_files

HAND_FRAMES = (
    "CARDS_LIVINGROOM_B_T_frame_0342.jpg",
    "CARDS_LIVINGROOM_B_T_frame_2147.jpg",
    "PUZZLE_LIVINGROOM_T_B_frame_0632.jpg",
)


def _hand_frames() -> list[np.ndarray]:
    folder = shared_path("data/egohands/test")
    return [read_rgb(folder / name) for name in HAND_FRAMES]


def _assert_same(a: Detections, b: Detections, px: float, score: float) -> None:
    assert a.labels == b.labels
    np.testing.assert_allclose(a.boxes, b.boxes, atol=px)
    np.testing.assert_allclose(a.scores, b.scores, atol=score)


def test_hands_litert_and_tf_agree_on_egohands_frames(real_models: Path) -> None:
    with (
        bind_model_files(EgoHandsDetector(precision="fp32")) as lite,
        bind_model_files(EgoHandsDetector(runtime="tf")) as tf_model,
    ):
        for frame in _hand_frames():
            expected = tf_model.detect(frame)
            assert len(expected) >= 3
            _assert_same(lite.detect(frame), expected, px=0.5, score=1e-3)


def test_hands_int8_finds_the_same_hands(real_models: Path) -> None:
    with (
        bind_model_files(EgoHandsDetector(precision="fp32")) as fp32,
        bind_model_files(EgoHandsDetector(precision="int8")) as int8,
    ):
        for frame in _hand_frames():
            strong = fp32.detect(frame).select(fp32.detect(frame).scores > 0.7)
            quantized = int8.detect(frame)
            assert len(strong) and len(quantized)
            assert iou_matrix(strong.boxes, quantized.boxes).max(axis=1).min() > 0.7


@pytest.fixture(scope="module")
def full_hand_graph(tmp_path_factory: pytest.TempPathFactory):
    """The original hand graph (with its own resize loop, input ``image_tensor`` uint8) in TensorFlow."""
    from detectors.tfjs import TFGraphRunner, load_graph_def

    tarball = shared_path(HAND_TARBALL)
    folder = tmp_path_factory.mktemp("handtrack")
    prefix = "package/models/web/ssdlitemobilenetv2/"
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith(prefix):
                (folder / member.name.removeprefix(prefix)).write_bytes(tar.extractfile(member).read())
    runner = TFGraphRunner(
        load_graph_def(folder), ["image_tensor"], ["Postprocessor/Slice", "Postprocessor/ExpandDims_1"]
    )
    yield runner
    runner.close()


def _reference(runner, frame: np.ndarray, threshold: float = 0.5, iou: float = 0.5) -> Detections:
    """Detections from the untouched graph fed ``frame`` as it is (uint8, any size)."""
    scores, boxes = runner.run([frame[None]])
    scores, boxes = scores.reshape(-1), np.clip(boxes.reshape(-1, 4), 0, 1)
    keep = scores >= threshold
    h, w = frame.shape[:2]
    pixels = boxes[keep][:, [1, 0, 3, 2]] * np.array([w, h, w, h], np.float32)
    order = nms(pixels, scores[keep], iou, 20)
    return Detections.from_class_ids(pixels[order], scores[keep][order], np.zeros(len(order)), ("hand",))


def test_plugin_feeds_rgb_and_matches_the_full_graph(real_models: Path, full_hand_graph) -> None:
    with bind_model_files(EgoHandsDetector(precision="fp32")) as detector:
        for frame in _hand_frames()[:2]:
            got = detector.detect(frame)
            rgb = _reference(full_hand_graph, frame)
            bgr = _reference(full_hand_graph, np.ascontiguousarray(frame[:, :, ::-1]))
            # the cut graph + numpy resize reproduce the original graph on the RGB frame ...
            _assert_same(got, rgb, px=0.5, score=1e-3)
            # ... and a BGR frame gives clearly different hands
            assert len(bgr) != len(got) or np.abs(bgr.boxes - got.boxes).max() > 5


def test_centernet_runtimes_agree_and_classes_filter(real_models: Path) -> None:
    frame = read_rgb(shared_path("data/coco128/images/train2017/000000000036.jpg"))
    with (
        bind_model_files(CenterNetDetector(score_threshold=0.2)) as lite,
        bind_model_files(CenterNetDetector(score_threshold=0.2, runtime="tf")) as tfm,
    ):
        got, expected = lite.detect(frame), tfm.detect(frame)
    assert "person" in got.labels
    _assert_same(got, expected, px=1.0, score=0.01)
    h, w = frame.shape[:2]
    assert got.boxes[:, 2].max() <= w and got.boxes[:, 3].max() <= h
    only_umbrellas = CenterNetDetector(score_threshold=0.2, classes=["umbrella"], class_thresholds={"umbrella": 0.3})
    with bind_model_files(only_umbrellas) as only:
        filtered = only.detect(frame)
    assert set(filtered.labels) == {"umbrella"} and filtered.scores.min() >= 0.3


def test_accuracy_on_egohands_and_coco128(real_models: Path) -> None:
    from orchestrator.evaluation.detection import evaluate, load_labels

    test = shared_path("data/egohands/test")
    train = shared_path("data/egohands/train")
    assert evaluate("hands.egohands", load_labels(test / "test_labels.csv", test)).ap50 >= 0.94
    assert evaluate("hands.egohands", load_labels(train / "train_labels.csv", train)).ap50 >= 0.97
    coco = shared_path("data/coco128")
    dataset = load_labels(coco / "labels/train2017", coco / "images/train2017", coco / "coco128.yaml")
    assert evaluate("objects.coco.centernet", dataset).ap50 >= 0.45


def test_bench_reports_litert_against_tf(real_models: Path) -> None:
    from orchestrator.bench import bench

    result = bench("hands.egohands", precision="int8", runs=3, warmup=1).to_json()
    assert (result["runtime"], result["precision"]) == ("litert", "int8")
    assert {"median_ms", "p90_ms", "tf_median_ms", "speedup_vs_tf"} <= set(result)
    assert result["median_ms"] > 0 and result["tf_median_ms"] > 0


def test_hands_default_precision_is_int8_once_quantized(real_models: Path) -> None:
    # real_models has run `models quantize`: the default (auto) takes the int8 build.
    with bind_model_files(EgoHandsDetector()) as default, bind_model_files(EgoHandsDetector(runtime="tf")) as tf_model:
        assert default.precision == "int8"
        assert tf_model.precision == "fp32"


def test_centernet_at_512x384_finds_the_same_objects(real_models: Path) -> None:
    # The store's 512x384 build (the graph's size constants rescaled): the same strong objects on a
    # COCO image as at the model's own 512x512, boxes in the frame's pixels either way.
    frame = read_rgb(shared_path("data/coco128/images/train2017/000000000036.jpg"))
    with (
        bind_model_files(CenterNetDetector(score_threshold=0.3)) as own,
        bind_model_files(CenterNetDetector(score_threshold=0.3, input_size=[512, 384])) as smaller,
    ):
        expected, got = own.detect(frame), smaller.detect(frame)
        assert smaller.input_size == (512, 384) and smaller.provenance().precision == "fp32"
    assert len(expected) and len(got)
    assert set(expected.labels) == set(got.labels)
    overlap = iou_matrix(expected.boxes, got.boxes)
    assert overlap.max(axis=1).min() > 0.7, overlap


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"input_size": [640, 480]}, r"no build at input size 640x480; built: 512x512, 512x384"),
        ({"input_size": [512, 384], "runtime": "tf"}, r"input_size 512x384 is built for runtime litert at precision"),
    ],
)
def test_centernet_input_sizes_that_are_not_built(real_models: Path, params: dict, message: str) -> None:
    from detectors.errors import ModelError

    with pytest.raises(ModelError, match=message):
        bind_model_files(CenterNetDetector(**params)).load()


def test_a_build_of_another_size_in_its_place_is_refused_on_load(real_models: Path) -> None:
    from detectors.errors import ModelError
    from detectors.modelfiles import ModelFiles

    own = real_models / "objects.coco.centernet" / "model.fp32.tflite"  # 512x512, given as the 512x384 build
    files = ModelFiles(
        "objects.coco.centernet",
        "tower_0/images:0",
        ("tower_0/detections:0",),
        {("litert", "fp32"): own},
        input_size=(512, 512),
        other_sizes={(512, 384): own},
    )
    detector = CenterNetDetector(input_size=[512, 384])
    detector.bind_model_files(files)
    with pytest.raises(ModelError, match=r"input shape \[1, 512, 512, 3\], expected \[1, 384, 512, 3\]"):
        detector.load()


def test_an_install_without_the_512x384_build_names_the_import_command(real_models: Path, tmp_path: Path) -> None:
    # A cache installed before the manifest listed 512x384: its record has no such file.
    import json
    import shutil

    from orchestrator.errors import UserError
    from orchestrator.modelstore import ModelStore

    folder = tmp_path / "objects.coco.centernet"
    shutil.copytree(real_models / "objects.coco.centernet", folder)
    record = json.loads((folder / "installed.json").read_text())
    del record["files"]["model.fp32.512x384.tflite"]
    (folder / "installed.json").write_text(json.dumps(record))
    (folder / "model.fp32.512x384.tflite").unlink()
    with pytest.raises(UserError, match=r"the 512x384 build is not installed .* models import"):
        bind_model_files(CenterNetDetector(input_size=[512, 384]), ModelStore(tmp_path))
    bind_model_files(CenterNetDetector(), ModelStore(tmp_path)).close()  # the model's own size still loads
