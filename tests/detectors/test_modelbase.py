"""hands.egohands and objects.coco.centernet without the real models: parameters, errors, light import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO_ROOT

from detectors.centernet import CenterNetDetector
from detectors.coco import COCO_LABELS
from detectors.egohands import EgoHandsDetector
from detectors.errors import ModelError, ParamsError
from detectors.modelfiles import ModelFiles
from orchestrator.errors import UserError
from orchestrator.modelstore import ModelStore, bind_model_files
from orchestrator.registry import DETECTORS

REPO = REPO_ROOT


def test_registered_with_labels_and_input_sizes() -> None:
    assert DETECTORS.get("hands.egohands").obj is EgoHandsDetector
    assert DETECTORS.get("objects.coco.centernet").obj is CenterNetDetector
    assert (EgoHandsDetector.labels, EgoHandsDetector.input_size) == (("hand",), (300, 300))
    assert (len(CenterNetDetector.labels), CenterNetDetector.input_size) == (80, (512, 512))
    assert CenterNetDetector.labels[:3] == ("person", "bicycle", "car") and CenterNetDetector.labels[-1] == "toothbrush"
    for cls in (EgoHandsDetector, CenterNetDetector):
        assert cls.params_schema["additionalProperties"] is False


def test_importing_the_plugins_does_not_import_tensorflow() -> None:
    code = (
        "import sys, detectors.egohands, detectors.centernet; "
        "print(sorted(m for m in ('tensorflow', 'ai_edge_litert', 'cv2', 'orchestrator') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (
            EgoHandsDetector,
            {"runtime": "onnx"},
            "hands.egohands: parameter runtime: expected one of litert, tf; got 'onnx'",
        ),
        (
            EgoHandsDetector,
            {"score_threshold": 1.5},
            "parameter score_threshold: value 1.5 is out of range: must be <= 1",
        ),
        (EgoHandsDetector, {"num_threads": 0}, "parameter num_threads: value 0 is out of range: must be >= 1"),
        (EgoHandsDetector, {"precision": "int8", "runtime": "tf"}, "precision int8 needs runtime: litert"),
        (
            CenterNetDetector,
            {"precision": "int8"},
            "objects.coco.centernet: parameter precision: expected one of fp32; got 'int8'",
        ),
        (CenterNetDetector, {"classes": ["cup", "mug"]}, "parameter classes: unknown class 'mug'; 80 valid class"),
        (CenterNetDetector, {"class_thresholds": {"phone": 0.1}}, "parameter class_thresholds: unknown class 'phone'"),
        (
            CenterNetDetector,
            {"class_thresholds": {"cup": 2}},
            "parameter class_thresholds.cup: value 2 is out of range: must be <= 1",
        ),
    ],
)
def test_bad_parameters_are_one_line_user_errors(cls: type, params: dict, message: str) -> None:
    with pytest.raises(ParamsError) as info:
        cls(**params)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises((ParamsError, TypeError)):
        EgoHandsDetector(**{"threshold": 0.5})


def test_every_unknown_class_in_one_message_with_the_closest_names() -> None:
    with pytest.raises(ParamsError) as info:
        CenterNetDetector(classes=["cupp", "mug", "bottel"], class_thresholds={"cup": 0.1, "phone": 0.1})
    assert str(info.value) == (
        "objects.coco.centernet: parameter classes: unknown classes 'cupp' (closest: cup), 'mug', "
        "'bottel' (closest: bottle, bowl, boat); parameter class_thresholds: unknown class 'phone' "
        f"(closest: cell phone, spoon, horse); {len(COCO_LABELS)} valid class names, "
        "see `python -m orchestrator plugins --json`"
    )
    assert ", ".join(COCO_LABELS[:5]) not in str(info.value)


def test_per_class_thresholds_and_class_filter() -> None:
    detector = CenterNetDetector(score_threshold=0.4, classes=["cup", "bottle"], class_thresholds={"cup": 0.1})
    assert detector.score_threshold_for("cup") == pytest.approx(0.1)
    assert detector.score_threshold_for("bottle") == pytest.approx(0.4)
    assert detector.score_threshold_for("person") == float("inf")


def test_binding_without_the_model_names_the_import_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRATOR_MODELS", str(tmp_path))
    with pytest.raises(UserError) as info:
        bind_model_files(EgoHandsDetector())
    assert str(info.value) == (
        f"model hands.egohands is not installed in {tmp_path}; run `python -m orchestrator models import "
        "../shared/npm/*.tgz` (or `python -m orchestrator models pull`)"
    )


def test_load_without_bound_files_is_a_model_error() -> None:
    with pytest.raises(ModelError, match=r"hands\.egohands: no model files bound; .*bind_model_files\(\)"):
        EgoHandsDetector().load()
    files = ModelFiles("objects.coco.centernet", "in:0", ("out:0",), {})
    with pytest.raises(ModelError, match=r"given the model files of objects\.coco\.centernet"):
        EgoHandsDetector().bind_model_files(files)


def test_int8_before_quantize_names_the_quantize_command(tmp_path: Path) -> None:
    folder = tmp_path / "hands.egohands"
    folder.mkdir()
    (folder / "installed.json").write_text(json.dumps({"files": {"graph.pb": {}, "model.fp32.tflite": {}}}))
    detector = bind_model_files(EgoHandsDetector(precision="int8"), ModelStore(tmp_path))
    with pytest.raises(ModelError) as info:
        detector.load()
    assert str(info.value) == (
        "hands.egohands: precision int8 is not built yet; run "
        "`python -m orchestrator models quantize hands.egohands --calibration-images DIR` first"
    )


def test_frames_must_be_rgb_uint8() -> None:
    with pytest.raises(ValueError, match=r"expected an RGB uint8 frame of shape \(H, W, 3\)"):
        EgoHandsDetector().detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="dtype float32"):
        CenterNetDetector().detect(np.zeros((10, 10, 3), np.float32))


def test_centernet_nms_across_classes_is_a_parameter() -> None:
    assert CenterNetDetector().nms_across_classes is False
    assert CenterNetDetector(nms_across_classes=True).nms_across_classes is True
    with pytest.raises(ParamsError, match="nms_across_classes"):
        CenterNetDetector(nms_across_classes="yes")
