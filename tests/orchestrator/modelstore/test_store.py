"""The model store: integrity before extraction, safe extraction, atomic installs, verify, quantize."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from helpers import REPO_ROOT, cache_leftovers

from detectors.centernet import CenterNetDetector
from detectors.egohands import EgoHandsDetector
from orchestrator import modelstore
from orchestrator.errors import UserError
from orchestrator.modelstore import ModelStore, sha256_file

REPO = REPO_ROOT


def _one_line_error(excinfo: pytest.ExceptionInfo[UserError]) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_import_installs_converted_files_with_hashes(tiny_package: SimpleNamespace) -> None:
    store = tiny_package.store()
    (model,) = store.import_tarballs([tiny_package.tarball])
    assert cache_leftovers(tiny_package.cache) == ["tiny.model"]  # no temporary folders left
    files = sorted(p.name for p in model.directory.iterdir())
    assert files == ["graph.pb", "installed.json", "model.fp32.tflite"]
    record = json.loads((model.directory / "installed.json").read_text())
    assert record["integrity"] == store.manifest("tiny.model").integrity
    for name in ("graph.pb", "model.fp32.tflite"):
        assert record["files"][name]["sha256"] == sha256_file(model.directory / name)
    assert model.precisions == ("fp32",)
    assert model.runtime_file("tf").name == "graph.pb"
    assert model.runtime_file("litert").name == "model.fp32.tflite"
    (status,) = store.list_models()
    assert status.installed and status.precisions == ("fp32",) and status.size_bytes > 0
    (checked,) = store.verify()
    assert checked.ok

    # A changed file is reported by verify; re-importing replaces the folder atomically.
    (model.directory / "model.fp32.tflite").write_bytes(b"tampered")
    (checked,) = store.verify()
    assert not checked.ok and "sha256 differs" in checked.problems[0]
    store.import_tarballs([tiny_package.tarball])
    assert store.verify()[0].ok
    assert cache_leftovers(tiny_package.cache) == ["tiny.model"]


def test_wrong_integrity_is_refused_before_extraction(tiny_package: SimpleNamespace) -> None:
    expected = tiny_package.store().manifest("tiny.model").integrity
    with tiny_package.tarball.open("ab") as stream:
        stream.write(b"\0")  # same name, different bytes
    with pytest.raises(UserError) as info:
        tiny_package.store().import_tarballs([tiny_package.tarball])
    message = _one_line_error(info)
    assert message.startswith(f"{tiny_package.tarball}: integrity mismatch for tiny-model@1.0.0: expected {expected}")
    assert cache_leftovers(tiny_package.cache) == []


def test_corrupt_tarball(tiny_package: SimpleNamespace) -> None:
    tiny_package.tarball.write_bytes(b"\x1f\x8b\x08\x00garbage, not a gzip stream" * 10)
    tiny_package.pin(tiny_package.tarball)
    with pytest.raises(UserError) as info:
        tiny_package.store().import_tarballs([tiny_package.tarball])
    assert _one_line_error(info).startswith(f"{tiny_package.tarball}: corrupt tarball")
    assert cache_leftovers(tiny_package.cache) == []


def test_truncated_tarball(tiny_package: SimpleNamespace) -> None:
    data = tiny_package.tarball.read_bytes()
    tiny_package.tarball.write_bytes(data[: len(data) // 2])
    tiny_package.pin(tiny_package.tarball)
    with pytest.raises(UserError, match="corrupt tarball") as info:
        tiny_package.store().import_tarballs([tiny_package.tarball])
    _one_line_error(info)
    assert cache_leftovers(tiny_package.cache) == []


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (("../evil", b"x", tarfile.REGTYPE, ""), "path with .."),
        (("package/../../evil", b"x", tarfile.REGTYPE, ""), "path with .."),
        (("/etc/evil", b"x", tarfile.REGTYPE, ""), "absolute path"),
        (("package/model/link", b"", tarfile.SYMTYPE, "/etc/passwd"), "link"),
        (("package/model/hard", b"", tarfile.LNKTYPE, "package/package.json"), "link"),
        (("package/dev", b"", tarfile.CHRTYPE, ""), "device or fifo"),
    ],
)
def test_unsafe_members_are_refused(tiny_package: SimpleNamespace, tmp_path: Path, member: tuple, reason: str) -> None:
    tarball = tiny_package.make_tarball(extra=[member])
    with pytest.raises(UserError) as info:
        tiny_package.store().import_tarballs([tarball])
    assert _one_line_error(info) == f"{tarball}: unsafe member {member[0]!r} ({reason}); refusing the tarball"
    assert cache_leftovers(tiny_package.cache) == []
    assert not (tmp_path / "evil").exists() and not (tiny_package.cache.parent / "evil").exists()


def test_missing_model_file(tiny_package: SimpleNamespace) -> None:
    tarball = tiny_package.make_tarball(skip=("weights.bin",))
    with pytest.raises(UserError) as info:
        tiny_package.store().import_tarballs([tarball])
    assert _one_line_error(info).startswith(f"{tarball}: missing model file package/model/weights.bin")
    assert cache_leftovers(tiny_package.cache) == []


def test_unknown_tarball_and_missing_file(tiny_package: SimpleNamespace, tmp_path: Path) -> None:
    other = tmp_path / "something-else-1.0.tgz"
    other.write_bytes(b"whatever")
    with pytest.raises(UserError, match=r"not a known model package .*expected one of: tiny-model-1\.0\.0\.tgz"):
        tiny_package.store().import_tarballs([other])
    with pytest.raises(UserError, match="no such tarball"):
        tiny_package.store().import_tarballs([tmp_path / "absent.tgz"])
    assert cache_leftovers(tiny_package.cache) == []


def test_unknown_tarballs_among_known_ones_are_skipped(tiny_package: SimpleNamespace, tmp_path: Path) -> None:
    other = tmp_path / "mediapipe-hands-0.4.tgz"
    other.write_bytes(b"another project's package")
    skipped: list[tuple[Path, str]] = []
    (model,) = tiny_package.store().import_tarballs([other, tiny_package.tarball], lambda p, m: skipped.append((p, m)))
    assert model.name == "tiny.model"
    assert skipped == [(other, f"{other}: not a known model package (sha512 matches no manifest); "
                        "expected one of: tiny-model-1.0.0.tgz")]
    with pytest.raises(UserError, match="not a known model package"):  # none known: still an error
        tiny_package.store().import_tarballs([other, other])
    # A known name with the wrong bytes is never skipped, and fails before anything is converted.
    with tiny_package.tarball.open("ab") as stream:
        stream.write(b"\0")
    with pytest.raises(UserError, match="integrity mismatch"):
        tiny_package.store().import_tarballs([other, tiny_package.tarball])


def test_renamed_tarball_is_matched_by_integrity(tiny_package: SimpleNamespace, tmp_path: Path) -> None:
    renamed = tmp_path / "download.tgz"
    renamed.write_bytes(tiny_package.tarball.read_bytes())
    (model,) = tiny_package.store().import_tarballs([renamed])
    assert model.name == "tiny.model"


def test_failure_during_conversion_leaves_nothing(
    tiny_package: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detectors import litert

    def boom(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(litert, "convert", boom)
    with pytest.raises(RuntimeError, match="converter crashed"):
        tiny_package.store().import_tarballs([tiny_package.tarball])
    assert cache_leftovers(tiny_package.cache) == []


def test_not_installed_names_the_command(tiny_package: SimpleNamespace) -> None:
    with pytest.raises(UserError) as info:
        tiny_package.store().installed("tiny.model")
    message = _one_line_error(info)
    assert "model tiny.model is not installed" in message
    assert "`python -m orchestrator models import ../shared/npm/*.tgz`" in message
    assert "`python -m orchestrator models pull`" in message
    with pytest.raises(UserError, match=r"unknown model 'nope'; known models: tiny\.model"):
        tiny_package.store().installed("nope")


def _calibration_images(folder: Path, count: int) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i:02d}.png"), rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))
    return folder


def test_quantize(tiny_package: SimpleNamespace, tmp_path: Path) -> None:
    store = tiny_package.store()
    images = _calibration_images(tmp_path / "calib", 6)
    with pytest.raises(UserError, match="not installed"):
        store.quantize("tiny.model", images)
    store.import_tarballs([tiny_package.tarball])
    with pytest.raises(UserError, match="precision int8 is not built yet; run `python -m orchestrator models quantize"):
        store.installed("tiny.model").runtime_file("litert", "int8")

    (images / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(UserError) as info:
        store.quantize("tiny.model", images)
    assert _one_line_error(info) == f"{images / 'broken.jpg'}: cannot decode image (not a readable JPEG/PNG/BMP file)"
    assert cache_leftovers(tiny_package.cache) == ["tiny.model"]
    assert store.installed("tiny.model").precisions == ("fp32",)

    (images / "broken.jpg").unlink()
    model = store.quantize("tiny.model", images, count=4)
    assert model.precisions == ("fp32", "int8")
    assert model.record["int8"]["count"] == 4
    assert store.verify()[0].ok
    assert cache_leftovers(tiny_package.cache) == ["tiny.model"]

    # Importing the same package again keeps the int8 build (and how it was calibrated).
    int8 = model.directory / "model.int8.tflite"
    int8_sha = sha256_file(int8)
    (again,) = store.import_tarballs([tiny_package.tarball])
    assert again.precisions == ("fp32", "int8") and sha256_file(int8) == int8_sha
    assert again.record["int8"] == model.record["int8"]
    assert store.verify()[0].ok
    assert cache_leftovers(tiny_package.cache) == ["tiny.model"]

    # ... but not a tampered one, nor one made from another package.
    int8.write_bytes(b"tampered")
    (again,) = store.import_tarballs([tiny_package.tarball])
    assert again.precisions == ("fp32",) and "int8" not in again.record and store.verify()[0].ok


def test_quantize_refused_when_the_manifest_has_no_int8(tiny_package: SimpleNamespace, tmp_path: Path) -> None:
    tiny_package.pin(tiny_package.tarball, precisions=["fp32"])
    with pytest.raises(UserError) as info:
        tiny_package.store().quantize("tiny.model", tmp_path)
    assert "model tiny.model cannot be quantized: int8 is not supported for it" in _one_line_error(info)


def test_bad_manifest_names_file_and_field(tiny_package: SimpleNamespace) -> None:
    tiny_package.pin(tiny_package.tarball, input={"tensor": "input:0", "size": [8]})
    with pytest.raises(UserError, match=r"tiny\.yaml: input/size: "):
        tiny_package.store().manifests()


def test_real_manifests_match_the_plugins() -> None:
    manifests = ModelStore().manifests()
    assert manifests["hands.egohands"].labels == EgoHandsDetector.labels
    assert manifests["objects.coco.centernet"].labels == CenterNetDetector.labels
    assert manifests["hands.egohands"].input_size == EgoHandsDetector.input_size
    assert manifests["objects.coco.centernet"].input_size == CenterNetDetector.input_size
    assert manifests["hands.egohands"].precisions == EgoHandsDetector.precisions
    assert manifests["objects.coco.centernet"].precisions == CenterNetDetector.precisions
    assert manifests["objects.coco.centernet"].tarball_name == "vladmandic-human-3.3.6.tgz"
    with pytest.raises(UserError, match="cannot be quantized"):
        ModelStore().quantize("objects.coco.centernet", ".")


def test_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from orchestrator.modelstore import store

    monkeypatch.delenv("ORCHESTRATOR_MODELS", raising=False)
    assert modelstore.default_cache_dir() == REPO / "models" / "cache"  # a source checkout
    monkeypatch.setattr(store, "_CHECKOUT", tmp_path / "site-packages")  # an installed package
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert modelstore.default_cache_dir() == tmp_path / "xdg" / "orchestrator" / "models"
    monkeypatch.setenv("ORCHESTRATOR_MODELS", str(tmp_path))
    assert ModelStore().root == tmp_path


def test_manifests_are_package_data_not_read_from_the_checkout() -> None:
    folder = modelstore.packaged_manifests_dir()
    assert folder == Path(modelstore.__file__).resolve().parent / "manifests"
    shipped = sorted(p.name for p in folder.glob("*.yaml"))
    assert shipped == ["coco-centernet.yaml", "egohands-ssdlite.yaml", "mediapipe-hands.yaml"]
    assert not list((REPO / "models").glob("*.yaml"))
    assert ModelStore().manifest("hands.egohands").path.parent == folder


def test_model_files_for_the_plugins(tiny_package: SimpleNamespace) -> None:
    from detectors.errors import ModelError

    store = tiny_package.store()
    (model,) = store.import_tarballs([tiny_package.tarball])
    files = model.model_files()
    assert (files.name, files.input_tensor, files.outputs, files.precisions) == (
        "tiny.model",
        "input:0",
        ("output:0",),
        ("fp32",),
    )
    assert files.path("litert", "fp32") == model.directory / "model.fp32.tflite"
    assert files.path("tf", "fp32") == model.directory / "graph.pb"
    assert files.package == "tiny-model@1.0.0"  # the detector's provenance in the stream's header
    with pytest.raises(ModelError) as info:
        files.path("litert", "int8")
    assert str(info.value) == (
        "tiny.model: precision int8 is not built yet; run "
        "`python -m orchestrator models quantize tiny.model --calibration-images DIR` first"
    )
    with pytest.raises(ModelError, match="runtime tf runs float32 only"):
        files.path("tf", "int8")


def test_pull_without_npm_is_a_user_error(tiny_package: SimpleNamespace) -> None:
    with pytest.raises(UserError, match="no-such-npm not found"):
        tiny_package.store().pull(npm="no-such-npm")


@pytest.mark.parametrize(
    ("input_section", "message"),
    [
        ({"other_sizes": [[16, 16]]}, r"tiny\.yaml: input: 'size_constants' is a dependency of 'other_sizes'"),
        (
            {"other_sizes": [[8, 8]], "size_constants": {"flat/shape": ["1", "hw"]}},
            r"tiny\.yaml: input\.other_sizes: \[8, 8\] is the model's own size",
        ),
        (
            {"other_sizes": [[16, 16]], "size_constants": {"flat/shape": ["1", "x"]}},
            r"input/size_constants/flat/shape/1: 'x' is not one of",
        ),
    ],
)
def test_bad_other_sizes_name_file_and_field(tiny_package: SimpleNamespace, input_section: dict, message: str) -> None:
    tiny_package.pin(tiny_package.tarball, input={"tensor": "input:0", "size": [8, 8], **input_section})
    with pytest.raises(UserError, match=message):
        tiny_package.store().manifests()


def test_other_sizes_the_graph_cannot_take_are_refused_and_missing_ones_reported(tiny_package: SimpleNamespace) -> None:
    store = tiny_package.store()
    store.import_tarballs([tiny_package.tarball])
    # The tiny model ends in a dense layer over 256 features: not fully convolutional.
    sized = {"other_sizes": [[16, 16]], "size_constants": {"flat/shape": ["1", "hw"]}}
    tiny_package.pin(tiny_package.tarball, input={"tensor": "input:0", "size": [8, 8], **sized})
    (checked,) = tiny_package.store().verify()
    assert checked.problems == (
        "installed without model.fp32.16x16.tflite (the manifest lists its input size): re-import it",
    )
    with pytest.raises(UserError) as info:
        tiny_package.store().import_tarballs([tiny_package.tarball])
    assert str(info.value).startswith(
        "tiny.yaml: input.other_sizes 16x16 of tiny.model: cannot convert: the graph does not fit together "
        "(Dimensions must be equal, but are 1024 and 256"
    )
    assert cache_leftovers(tiny_package.cache) == ["tiny.model"]  # the earlier install is kept as it was
    assert tiny_package.store().installed("tiny.model").other_size_files() == {}
