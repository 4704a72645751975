"""Detection evaluation: label loaders, COCO AP via pycocotools, operating point, plot, CLI hook."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest
from helpers import run_cli

from detectors.detections import Detections
from detectors.detector import Detector
from detectors.errors import ParamsError
from orchestrator.errors import UserError
from orchestrator.evaluation import detection, detection_cli

# image index -> (ground truth boxes, labels); images are 64x48, uniform grey level = index * 20
TRUTH = {
    1: ([[4, 4, 20, 20], [30, 10, 60, 40]], ["hand", "hand"]),
    2: ([[10, 10, 30, 30]], ["hand"]),
    3: ([], []),
}


class OracleDetector(Detector):
    """Returns the truth (score 0.9), plus a low-score false positive on image 3; reads the image index from a pixel."""

    labels = ("hand", "cup")
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "score_threshold": {"type": "number"},
            "max_detections": {"type": "integer"},
            "miss": {"type": "boolean"},
        },
        "additionalProperties": False,
    }

    def __init__(self, score_threshold: float = 0.5, max_detections: int = 10, miss: bool = False) -> None:
        self.score_threshold, self.miss = score_threshold, miss

    def detect(self, image: np.ndarray) -> Detections:
        index = int(image[0, 0, 0]) // 20
        boxes, labels = TRUTH[index]
        if self.miss and index == 1:
            boxes, labels = boxes[:1], labels[:1]
        scores = [0.9] * len(boxes)
        if index == 3:
            boxes, labels, scores = [[0, 0, 10, 10]], ["hand"], [0.2]
        records = [
            {"box": b, "score": s, "label": lab, "class_id": 0} for b, s, lab in zip(boxes, scores, labels, strict=True)
        ]
        keep = [r for r in records if r["score"] >= self.score_threshold]
        return Detections.from_records(keep)


@pytest.fixture
def egohands_layout(tmp_path: Path) -> tuple[Path, Path]:
    images = tmp_path / "images"
    images.mkdir()
    rows = ["filename,width,height,class,xmin,ymin,xmax,ymax"]
    for index, (boxes, labels) in TRUTH.items():
        cv2.imwrite(str(images / f"img{index}.png"), np.full((48, 64, 3), index * 20, np.uint8))
        rows += [
            f"img{index}.png,64,48,{lab},{b[0]},{b[1]},{b[2]},{b[3]}" for b, lab in zip(boxes, labels, strict=True)
        ]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    return images, csv_path


def test_perfect_detector_scores_one(egohands_layout: tuple[Path, Path], tmp_path: Path) -> None:
    images, csv_path = egohands_layout
    dataset = detection.load_labels(csv_path, images)
    assert (len(dataset.images), dataset.box_count, dataset.class_names) == (3, 3, ("hand",))
    plot = tmp_path / "out" / "pr.png"
    result = detection.evaluate(OracleDetector, dataset, plot=plot)
    assert result.ap50 == pytest.approx(1.0) and result.ap50_95 == pytest.approx(1.0)
    # at the operating threshold 0.5 the 0.2 false positive does not count
    assert (result.precision, result.recall, result.images, result.boxes) == (1.0, 1.0, 3, 3)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "101-point" in result.metric
    low = detection.evaluate(OracleDetector, dataset, {"score_threshold": 0.1})
    assert low.precision == pytest.approx(3 / 4) and low.recall == 1.0


def test_missed_box_lowers_recall_and_ap(egohands_layout: tuple[Path, Path]) -> None:
    images, csv_path = egohands_layout
    result = detection.evaluate(OracleDetector, detection.load_labels(csv_path, images), {"miss": True})
    assert result.recall == pytest.approx(2 / 3) and result.precision == 1.0
    assert result.ap50 < 0.7


def test_yolo_layout(tmp_path: Path) -> None:
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    cv2.imwrite(str(images / "a.jpg"), np.zeros((50, 100, 3), np.uint8))
    cv2.imwrite(str(images / "b.jpg"), np.zeros((50, 100, 3), np.uint8))  # no label file: no objects
    (labels / "a.txt").write_text("1 0.5 0.5 0.2 0.4\n")
    names = tmp_path / "data.yaml"
    names.write_text("names:\n  0: person\n  1: cup\n")
    dataset = detection.load_labels(labels, images, names)
    assert dataset.class_names == ("person", "cup")
    first, second = dataset.images
    assert first.labels == ("cup",) and second.labels == ()
    np.testing.assert_allclose(first.pixel_boxes(100, 50), [[40, 15, 60, 35]])
    names.write_text("names: [person, cup]\n")
    assert detection.load_names(names) == ("person", "cup")
    (labels / "a.txt").write_text("7 0.5 0.5 0.2 0.4\n")
    with pytest.raises(UserError, match=r"a\.txt:1: class 7 is out of range for the 2 names"):
        detection.load_labels(labels, images, names)
    with pytest.raises(UserError, match="needs --names"):
        detection.load_labels(labels, images)


def test_csv_errors_name_file_and_line(egohands_layout: tuple[Path, Path]) -> None:
    images, csv_path = egohands_layout
    csv_path.write_text(csv_path.read_text() + "img1.png,64,48,hand,1,2,x,4\n")
    with pytest.raises(UserError, match=rf"{csv_path}:5: expected filename,width"):
        detection.load_labels(csv_path, images)
    csv_path.write_text("filename,width,height,class,xmin,ymin,xmax,ymax\nother.png,1,1,hand,0,0,1,1\n")
    with pytest.raises(UserError, match=rf"{csv_path}:2: image other.png is not in {images}"):
        detection.load_labels(csv_path, images)


def test_undecodable_image_is_a_one_line_error(egohands_layout: tuple[Path, Path], tmp_path: Path) -> None:
    images, csv_path = egohands_layout
    (images / "img2.png").write_bytes(b"\x89PNG broken")
    plot = tmp_path / "pr.png"
    with pytest.raises(UserError) as info:
        detection.evaluate(OracleDetector, detection.load_labels(csv_path, images), plot=plot)
    assert str(info.value) == f"{images / 'img2.png'}: cannot decode image (not a readable JPEG/PNG/BMP file)"
    assert not plot.exists()


def test_detector_without_the_dataset_classes(egohands_layout: tuple[Path, Path]) -> None:
    class Cups(OracleDetector):
        labels = ("cup",)

    images, csv_path = egohands_layout
    with pytest.raises(UserError, match=r"outputs none of the dataset's classes \(hand\)"):
        detection.evaluate(Cups, detection.load_labels(csv_path, images))
    with pytest.raises(UserError, match="unknown detector plugin 'nope'"):
        detection.evaluate("nope", detection.load_labels(csv_path, images))


def test_cli_hook(egohands_layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    images, csv_path = egohands_layout
    parser = argparse.ArgumentParser(prog="orchestrator")
    detection_cli.register(parser.add_subparsers(dest="command"))
    detector = f"{__name__}:OracleDetector"
    args = parser.parse_args(
        [
            "eval",
            "--detector",
            detector,
            "--images",
            str(images),
            "--labels",
            str(csv_path),
            "--param",
            "score_threshold=0.1",
            "--json",
        ]
    )
    assert args.handler(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"ap50", "ap50_95", "precision", "recall", "images", "boxes"} <= set(out)
    assert (out["ap50"], out["images"], out["boxes"], out["precision"]) == (1.0, 3, 3, 0.75)
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "--detector", "x", "--images", "i", "--labels", "l", "--param", "novalue"])


def test_unknown_parameter_is_refused_before_construction(egohands_layout: tuple[Path, Path]) -> None:
    # OracleDetector does not check its own parameters: the one check must run before its constructor.
    images, csv_path = egohands_layout
    with pytest.raises(ParamsError) as info:
        detection.evaluate(OracleDetector, detection.load_labels(csv_path, images), {"bogus": 1})
    assert str(info.value) == (
        "OracleDetector: parameter bogus: unknown key 'bogus'; expected one of: max_detections, miss, score_threshold"
    )


def test_cli_unknown_parameter_is_exit_2_without_traceback(egohands_layout: tuple[Path, Path]) -> None:
    images, csv_path = egohands_layout
    result = run_cli(
        "eval", "--detector", "hands.egohands", "--images", images, "--labels", csv_path, "--param", "bogus=1"
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "error: hands.egohands: parameter bogus: unknown key 'bogus'; expected one of: "
            "max_detections, nms_iou, num_threads, precision, runtime, score_threshold"
        )
    )
