"""Detector accuracy on a labelled image folder: COCO AP (pycocotools), precision and recall.

Labels come in one of two layouts:

* EgoHands CSV: one ``filename,width,height,class,xmin,ymin,xmax,ymax`` row per box (pixels);
* YOLO: a folder of ``<image stem>.txt`` files with ``class cx cy w h`` rows (normalised to the
  image size) plus a names YAML (``names: {0: person, ...}`` or a list), as in coco128.

Images are every jpg/jpeg/png/bmp file in the image folder; an image without labels has no
objects. The metric is COCO's: 101-point interpolated average precision per class (pycocotools
``COCOeval``, ``maxDets=100``, all areas), averaged over the classes with ground truth, at IoU 0.5
(``ap50``) and averaged over IoU 0.50:0.05:0.95 (``ap50_95``). Precision and recall are counted
at the detector's own score threshold(s) (the operating point) with COCO's IoU-0.5 matching.

Example:
    >>> dataset = load_labels(Path("../shared/data/egohands/test/test_labels.csv"),
    ...                       Path("../shared/data/egohands/test"))  # doctest: +SKIP
    >>> result = evaluate("hands.egohands", dataset, plot=Path("pr.png"))  # doctest: +SKIP
    >>> round(result.ap50, 3)  # doctest: +SKIP
    0.95
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detectors.image import in_channel_order
from orchestrator.errors import UserError

METRIC = (
    "COCO 101-point interpolated AP (pycocotools COCOeval, maxDets=100, all areas), mean over classes "
    "with ground truth; precision/recall at the detector's score threshold(s), IoU 0.5"
)
#: Score floor the detector runs with for AP (the whole precision-recall curve is needed).
AP_SCORE_FLOOR = 0.01
#: Detections per image kept for AP (COCO's ``maxDets``).
AP_MAX_DETECTIONS = 100
CSV_HEADER = ["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax"]


# --------------------------------------------------------------------------- labels
@dataclass(frozen=True)
class LabelledImage:
    """One image and its ground-truth boxes (``x1, y1, x2, y2``; normalised to 0..1 if ``normalized``)."""

    path: Path
    boxes: np.ndarray = field(repr=False)
    labels: tuple[str, ...]
    normalized: bool = False

    def pixel_boxes(self, width: int, height: int) -> np.ndarray:
        """Boxes in pixels of a ``width`` × ``height`` image."""
        boxes = np.asarray(self.boxes, np.float64).reshape(-1, 4)
        return boxes * [width, height, width, height] if self.normalized else boxes


@dataclass(frozen=True)
class LabelledSet:
    """A labelled image folder."""

    images: tuple[LabelledImage, ...]
    class_names: tuple[str, ...]

    @property
    def box_count(self) -> int:
        """Number of ground-truth boxes."""
        return sum(len(image.labels) for image in self.images)


def _image_files(images_dir: Path) -> list[Path]:
    from orchestrator.modelstore import list_images

    files = list_images(images_dir)
    if not files:
        raise UserError(f"{images_dir}: no images (jpg, jpeg, png, bmp) found")
    return files


def load_egohands_csv(csv_path: Path, images_dir: Path) -> LabelledSet:
    """Labels in EgoHands CSV layout (``filename,width,height,class,xmin,ymin,xmax,ymax``, pixels)."""
    files = _image_files(images_dir)
    rows: dict[str, list[tuple[str, list[float]]]] = {p.name: [] for p in files}
    try:
        text = csv_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{csv_path}: cannot read labels ({exc})") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != CSV_HEADER:
        raise UserError(f"{csv_path}:1: expected the header {','.join(CSV_HEADER)}")
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            if len(row) != len(CSV_HEADER):
                raise ValueError
            name, label, box = row[0], row[3], [float(v) for v in row[4:8]]
        except ValueError:
            raise UserError(f"{csv_path}:{line}: expected {','.join(CSV_HEADER)} with numeric box") from None
        if name not in rows:
            raise UserError(f"{csv_path}:{line}: image {name} is not in {images_dir}")
        if box[2] < box[0] or box[3] < box[1]:
            raise UserError(f"{csv_path}:{line}: box has xmax < xmin or ymax < ymin")
        rows[name].append((label, box))
    images = tuple(
        LabelledImage(
            p,
            np.array([b for _, b in rows[p.name]], np.float64).reshape(-1, 4),
            tuple(label for label, _ in rows[p.name]),
        )
        for p in files
    )
    names = tuple(sorted({label for image in images for label in image.labels}))
    return LabelledSet(images, names)


def load_names(names_yaml: Path) -> tuple[str, ...]:
    """Class names from a YOLO dataset YAML: ``names`` as ``{id: name}`` or a list."""
    import yaml

    try:
        data = yaml.safe_load(names_yaml.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{names_yaml}: cannot read class names ({str(exc).splitlines()[0]})") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict) and sorted(names) == list(range(len(names))):
        return tuple(str(names[i]) for i in range(len(names)))
    if isinstance(names, list) and names:
        return tuple(str(n) for n in names)
    raise UserError(f"{names_yaml}: expected names: as a list or a mapping 0..N-1 → name")


def load_yolo_labels(labels_dir: Path, names_yaml: Path, images_dir: Path) -> LabelledSet:
    """Labels in YOLO layout: ``<stem>.txt`` per image with ``class cx cy w h`` rows (normalised)."""
    names = load_names(names_yaml)
    images = []
    for path in _image_files(images_dir):
        txt = labels_dir / f"{path.stem}.txt"
        boxes, labels = [], []
        if txt.is_file():
            for line, text in enumerate(txt.read_text(encoding="utf-8").splitlines(), start=1):
                if not text.strip():
                    continue
                try:
                    cls, cx, cy, w, h = text.split()
                    cid, cx_, cy_, w_, h_ = int(cls), float(cx), float(cy), float(w), float(h)
                except ValueError:
                    raise UserError(f"{txt}:{line}: expected 'class cx cy w h' (normalised)") from None
                if not 0 <= cid < len(names):
                    raise UserError(f"{txt}:{line}: class {cid} is out of range for the {len(names)} names")
                boxes.append([cx_ - w_ / 2, cy_ - h_ / 2, cx_ + w_ / 2, cy_ + h_ / 2])
                labels.append(names[cid])
        images.append(LabelledImage(path, np.array(boxes, np.float64).reshape(-1, 4), tuple(labels), True))
    return LabelledSet(tuple(images), names)


def load_labels(labels: Path, images: Path, names: Path | None = None) -> LabelledSet:
    """EgoHands CSV if ``labels`` is a file, YOLO folder (with ``names``) if it is a folder."""
    if labels.is_file():
        return load_egohands_csv(labels, images)
    if labels.is_dir():
        if names is None:
            raise UserError(f"{labels}: a YOLO label folder needs --names YAML with the class names")
        return load_yolo_labels(labels, names, images)
    raise UserError(f"{labels}: no such labels file or folder")


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class DetectionEval:
    """Accuracy figures of one detector on one labelled set."""

    ap50: float
    ap50_95: float
    precision: float
    recall: float
    images: int
    boxes: int
    per_class: dict[str, dict[str, float]]
    metric: str = METRIC
    #: precision over the recall thresholds 0:0.01:1, mean over classes (for plotting)
    pr_curve: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures (keys ``ap50``, ``ap50_95``, ``precision``, ``recall``, ``images``, ``boxes``, ...)."""
        return {
            "ap50": round(self.ap50, 4),
            "ap50_95": round(self.ap50_95, 4),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "images": self.images,
            "boxes": self.boxes,
            "metric": self.metric,
            "per_class": self.per_class,
        }


def coco_evaluate(
    dataset: LabelledSet,
    sizes: Sequence[tuple[int, int]],
    detections: Sequence[Any],
    threshold_for: Callable[[str], float],
    classes: Sequence[str],
) -> DetectionEval:
    """COCO AP of ``detections`` (one `Detections` per image) against ``dataset``, over ``classes``."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    cat = {name: i + 1 for i, name in enumerate(classes)}
    gt_anns, dt_anns = [], []
    for img_id, (image, (width, height), dets) in enumerate(zip(dataset.images, sizes, detections, strict=True)):
        for box, label in zip(image.pixel_boxes(width, height), image.labels, strict=True):
            if label in cat:
                w, h = float(box[2] - box[0]), float(box[3] - box[1])
                gt_anns.append(
                    {
                        "id": len(gt_anns) + 1,
                        "image_id": img_id,
                        "category_id": cat[label],
                        "bbox": [float(box[0]), float(box[1]), w, h],
                        "area": w * h,
                        "iscrowd": 0,
                    }
                )
        for box, score, label in zip(dets.boxes, dets.scores, dets.labels, strict=True):
            if label in cat:
                dt_anns.append(
                    {
                        "image_id": img_id,
                        "category_id": cat[label],
                        "score": float(score),
                        "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])],
                    }
                )
    gt = COCO()
    gt.dataset = {
        "images": [{"id": i, "width": w, "height": h} for i, (w, h) in enumerate(sizes)],
        "annotations": gt_anns,
        "categories": [{"id": c, "name": n} for n, c in cat.items()],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        if not dt_anns:
            return DetectionEval(0.0, 0.0, 0.0, 0.0, len(sizes), len(gt_anns), {}, pr_curve=np.zeros(101))
        coco_eval = COCOeval(gt, gt.loadRes(dt_anns), "bbox")
        coco_eval.evaluate()
        coco_eval.accumulate()
    precision = coco_eval.eval["precision"][:, :, :, 0, -1]  # [iou, recall, class], area all, maxDets 100
    per_class, ap50s, ap_all, curves = {}, [], [], []
    for name, c in cat.items():
        k = c - 1
        n_gt = sum(1 for a in gt_anns if a["category_id"] == c)
        if n_gt == 0:
            continue
        ap50 = float(np.mean(np.clip(precision[0, :, k], 0, None)))
        ap = float(np.mean(np.clip(precision[:, :, k], 0, None)))
        per_class[name] = {"ap50": round(ap50, 4), "ap50_95": round(ap, 4), "gt": n_gt}
        ap50s.append(ap50)
        ap_all.append(ap)
        curves.append(np.clip(precision[0, :, k], 0, None))
    tp, fp = _operating_point(coco_eval, {c: threshold_for(n) for n, c in cat.items()})
    n_gt_all = len(gt_anns)
    return DetectionEval(
        ap50=float(np.mean(ap50s)) if ap50s else 0.0,
        ap50_95=float(np.mean(ap_all)) if ap_all else 0.0,
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / n_gt_all if n_gt_all else 0.0,
        images=len(sizes),
        boxes=n_gt_all,
        per_class=per_class,
        pr_curve=np.mean(curves, axis=0) if curves else np.zeros(101),
    )


def _operating_point(coco_eval: Any, thresholds: Mapping[int, float]) -> tuple[int, int]:
    """True and false positives at IoU 0.5 among detections scoring at least their class threshold."""
    tp = fp = 0
    all_areas = coco_eval.params.areaRng[0]
    for entry in coco_eval.evalImgs:
        if entry is None or list(entry["aRng"]) != list(all_areas):
            continue
        scores = np.asarray(entry["dtScores"])
        if scores.size == 0:
            continue
        above = scores >= thresholds[entry["category_id"]]
        matched = np.asarray(entry["dtMatches"])[0] > 0
        ignored = np.asarray(entry["dtIgnore"])[0].astype(bool)
        tp += int(np.sum(above & matched & ~ignored))
        fp += int(np.sum(above & ~matched & ~ignored))
    return tp, fp


# --------------------------------------------------------------------------- running
def _score_thresholds(detector: Any) -> Callable[[str], float]:
    method = getattr(detector, "score_threshold_for", None)
    if callable(method):
        return method
    value = float(getattr(detector, "score_threshold", 0.0))
    return lambda label: value


def evaluate(
    detector: str | type,
    dataset: LabelledSet,
    params: Mapping[str, Any] | None = None,
    plot: Path | None = None,
) -> DetectionEval:
    """Run ``detector`` (a registered name or a `Detector` class) with ``params`` over ``dataset``; score it.

    For AP the detector runs with its score threshold lowered to `AP_SCORE_FLOOR` (and
    ``max_detections`` raised to 100) when its parameters have them; precision and recall are
    counted at the thresholds ``params`` (or the defaults) give.

    Example:
        >>> evaluate("hands.egohands", dataset, {"precision": "int8"}).ap50  # doctest: +SKIP
        0.95
    """
    from orchestrator.config.instantiate import construct
    from orchestrator.errors import RegistryError
    from orchestrator.modelstore import read_rgb
    from orchestrator.modelstore.binding import bind_and_load
    from orchestrator.registry import DETECTORS

    if isinstance(detector, str):
        try:
            cls = DETECTORS.get(detector).obj
        except RegistryError as exc:
            raise UserError(str(exc)) from None
    else:
        cls, detector = detector, getattr(detector, "__name__", str(detector))
    params = dict(params or {})
    operating = construct(detector, cls, params)  # refuses unknown parameters before the constructor runs
    properties = cls.params_schema.get("properties", {})
    run_params = {k: v for k, v in params.items() if k != "class_thresholds"}
    if "score_threshold" in properties:
        run_params["score_threshold"] = AP_SCORE_FLOOR
    if "max_detections" in properties:
        run_params["max_detections"] = AP_MAX_DETECTIONS
    classes = [n for n in dataset.class_names if n in set(cls.labels)] if cls.labels else list(dataset.class_names)
    if not classes:
        raise UserError(
            f"{detector} outputs none of the dataset's classes ({', '.join(dataset.class_names) or 'none'})"
        )
    sizes, detections = [], []
    with bind_and_load(construct(detector, cls, run_params)) as model:
        for image in dataset.images:
            frame = read_rgb(image.path)
            sizes.append((int(frame.shape[1]), int(frame.shape[0])))
            detections.append(model.detect(in_channel_order(frame, model.channel_order)))
    result = coco_evaluate(dataset, sizes, detections, _score_thresholds(operating), classes)
    if plot is not None:
        plot_pr(result, plot, title=f"{detector} on {dataset.images[0].path.parent.name}")
    return result


def plot_pr(result: DetectionEval, path: Path, title: str = "") -> Path:
    """Write the precision–recall curve at IoU 0.5 (mean over classes) and the operating point as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    recall = np.linspace(0, 1, len(result.pr_curve))
    classes = len(result.per_class)
    what = "mean over " + (f"{classes} classes" if classes != 1 else "1 class")
    axes.plot(recall, result.pr_curve, label=f"IoU 0.5, {what} (AP50 {result.ap50:.3f})")
    axes.plot(
        [result.recall],
        [result.precision],
        "o",
        label=f"operating point, all boxes pooled (P {result.precision:.2f}, R {result.recall:.2f})",
    )
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
