"""Ready LiteRT files: a byte range of a member, a whole member, a member of a wheel; sha256 pins; atomicity."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from helpers import add_bytes, cache_leftovers, shared_path

from detectors.errors import ModelError
from detectors.modelfiles import ModelFiles
from orchestrator.errors import UserError
from orchestrator.modelstore import ModelStore, sha256_file, sri_sha512

PALM = b"TFL3-palm-model-bytes"
LANDMARK = b"TFL3-landmark-model"
WHEELED = b"TFL3-a-model-inside-a-wheel"
PACKED = b"Left\nRight\n" + PALM + b"TFL3-other" + b"trailing"  # the palm model at bytes [11, 32)
PALM_RANGE = [11, 11 + len(PALM)]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
    return buffer.getvalue()


FILES: list[dict[str, Any]] = [
    {"role": "palm", "member": "assets/packed.data", "range": PALM_RANGE, "sha256": _sha(PALM)},
    {"role": "landmark", "member": "landmark.tflite", "sha256": _sha(LANDMARK)},
    {"role": "wheeled", "member": "dist/m-1.0-py3-none-any.whl", "wheel_member": "m/models/w.tflite",
     "sha256": _sha(WHEELED)},
]


@pytest.fixture
def ready_package(tmp_path: Path) -> SimpleNamespace:
    """A tiny npm-style tarball holding ready LiteRT files (packed, plain, in a wheel), its manifest, a cache.

    ``make(members=..., files=...)`` rebuilds the tarball from ``members`` (tar path → bytes) and
    writes a manifest listing ``files`` (pinned to the new tarball's integrity).
    """
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    tarball = tmp_path / "ready-model-2.0.0.tgz"
    members = {
        "package/package.json": b'{"name": "ready-model", "version": "2.0.0"}',
        "package/assets/packed.data": PACKED,
        "package/landmark.tflite": LANDMARK,
        "package/dist/m-1.0-py3-none-any.whl": _wheel({"m/__init__.py": b"", "m/models/w.tflite": WHEELED}),
    }

    def make(members: dict[str, bytes] = members, files: list[dict[str, Any]] = FILES, **changes: Any) -> Path:
        with tarfile.open(tarball, "w:gz") as tar:
            for name, data in members.items():
                add_bytes(tar, name, data)
        manifest = {
            "name": "ready.model",
            "package": "ready-model",
            "version": "2.0.0",
            "integrity": sri_sha512(tarball),
            "licence": "Apache-2.0",
            "source": "package/",
            "files": files,
            "labels": ["hand"],
            "input": {"size": [16, 16]},
            "precisions": ["fp32"],
            **changes,
        }
        (manifests / "ready.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        return tarball

    make()
    cache = tmp_path / "cache"
    return SimpleNamespace(
        tarball=tarball, members=members, make=make, cache=cache, store=lambda: ModelStore(cache, manifests)
    )


def _error(store: ModelStore, tarball: Path) -> str:
    with pytest.raises(UserError) as info:
        store.import_tarballs([tarball])
    message = str(info.value)
    assert "\n" not in message
    return message


def test_installs_each_file_as_it_is_with_role_origin_and_hash(ready_package: SimpleNamespace) -> None:
    store = ready_package.store()
    (model,) = store.import_tarballs([ready_package.tarball])
    assert cache_leftovers(ready_package.cache) == ["ready.model"]
    assert sorted(p.name for p in model.directory.iterdir()) == [
        "installed.json",
        "landmark.tflite",
        "palm.tflite",
        "wheeled.tflite",
    ]
    assert (model.directory / "palm.tflite").read_bytes() == PALM
    assert (model.directory / "landmark.tflite").read_bytes() == LANDMARK
    assert (model.directory / "wheeled.tflite").read_bytes() == WHEELED
    record = json.loads((model.directory / "installed.json").read_text())
    assert record["files"] == {
        "landmark.tflite": {
            "role": "landmark",
            "from": "package/landmark.tflite",
            "runtime": "litert",
            "precision": "fp32",
            "sha256": _sha(LANDMARK),
            "bytes": len(LANDMARK),
        },
        "palm.tflite": {
            "role": "palm",
            "from": "package/assets/packed.data[11:32]",
            "runtime": "litert",
            "precision": "fp32",
            "sha256": _sha(PALM),
            "bytes": len(PALM),
        },
        "wheeled.tflite": {
            "role": "wheeled",
            "from": "package/dist/m-1.0-py3-none-any.whl!m/models/w.tflite",
            "runtime": "litert",
            "precision": "fp32",
            "sha256": _sha(WHEELED),
            "bytes": len(WHEELED),
        },
    }
    assert record["roles"] == {"palm": "palm.tflite", "landmark": "landmark.tflite", "wheeled": "wheeled.tflite"}
    assert record["input"] == {"size": [16, 16]} and "tensorflow" not in record  # no conversion, no TensorFlow
    assert record["integrity"] == sri_sha512(ready_package.tarball)
    assert model.precisions == ("fp32",)
    (status,) = store.list_models()
    assert status.installed and status.precisions == ("fp32",)
    assert status.size_bytes == sum(p.stat().st_size for p in model.directory.iterdir())
    assert store.verify()[0].ok


def test_model_files_by_role(ready_package: SimpleNamespace) -> None:
    (model,) = ready_package.store().import_tarballs([ready_package.tarball])
    files = model.model_files()
    assert files.roles == ("palm", "landmark", "wheeled")
    assert dict(files.extra) == {r: model.directory / f"{r}.tflite" for r in ("palm", "landmark", "wheeled")}
    assert files.path_of("wheeled") == model.directory / "wheeled.tflite"
    assert (files.input_tensor, files.outputs, files.precisions) == ("", (), ())
    with pytest.raises(ModelError) as info:
        files.path_of("nope")
    assert str(info.value) == "ready.model: no model file with role 'nope'; roles: palm, landmark, wheeled"
    with pytest.raises(ModelError) as info:
        files.path("litert", "fp32")
    assert str(info.value) == (
        "ready.model: this model is several LiteRT fp32 files, one per role (palm, landmark, wheeled); "
        "a plugin gets each with ModelFiles.path_of(role)"
    )


def test_model_files_is_validated_and_immutable(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"^m: model file for 'palm' is 'x\.tflite', not a pathlib\.Path$"):
        ModelFiles("m", "", (), {}, extra={"palm": "x.tflite"})  # type: ignore[dict-item]
    with pytest.raises(ModelError, match=r"^ModelFiles: empty model name$"):
        ModelFiles("", "", (), {})
    extra = {"palm": tmp_path / "palm.tflite"}
    files = ModelFiles("m", "", (), {}, extra=extra)
    extra["other"] = tmp_path
    assert files.roles == ("palm",)
    with pytest.raises(TypeError):
        files.extra["x"] = tmp_path  # type: ignore[index]
    with pytest.raises(ModelError, match=r"roles: \(none: this model is one converted file"):
        ModelFiles("c", "in:0", ("out:0",), {("litert", "fp32"): tmp_path}).path_of("palm")


def test_wrong_sha256_names_the_file_and_both_hashes(ready_package: SimpleNamespace) -> None:
    bad = [dict(FILES[0]), FILES[1], {**FILES[2], "sha256": "0" * 64}]
    tarball = ready_package.make(files=bad)
    assert _error(ready_package.store(), tarball) == (
        f"{tarball}: package/dist/m-1.0-py3-none-any.whl!m/models/w.tflite: sha256 mismatch for wheeled.tflite: "
        f"expected {'0' * 64}, got {_sha(WHEELED)}"
    )
    assert cache_leftovers(ready_package.cache) == []


def test_wrong_range_is_a_sha256_mismatch(ready_package: SimpleNamespace) -> None:
    tarball = ready_package.make(files=[{**FILES[0], "range": [10, 31]}])
    assert _error(ready_package.store(), tarball) == (
        f"{tarball}: package/assets/packed.data[10:31]: sha256 mismatch for palm.tflite: "
        f"expected {_sha(PALM)}, got {_sha(PACKED[10:31])}"
    )
    assert cache_leftovers(ready_package.cache) == []


def test_range_past_the_end(ready_package: SimpleNamespace) -> None:
    end = len(PACKED) + 1
    tarball = ready_package.make(files=[FILES[1], {**FILES[0], "range": [11, end]}])
    assert _error(ready_package.store(), tarball) == (
        f"{tarball}: package/assets/packed.data: range [11, {end}) of palm is past the end of the file "
        f"({len(PACKED)} bytes)"
    )
    assert cache_leftovers(ready_package.cache) == []


def test_missing_member_and_missing_wheel_member(ready_package: SimpleNamespace) -> None:
    members = {k: v for k, v in ready_package.members.items() if k != "package/landmark.tflite"}
    tarball = ready_package.make(members=members)
    assert _error(ready_package.store(), tarball) == (
        f"{tarball}: missing model file package/landmark.tflite (needed by ready.model; is this ready-model@2.0.0?)"
    )
    assert cache_leftovers(ready_package.cache) == []

    tarball = ready_package.make(files=[{**FILES[2], "wheel_member": "m/models/absent.tflite"}])
    assert _error(ready_package.store(), tarball) == (
        f"{tarball}: package/dist/m-1.0-py3-none-any.whl: missing model file m/models/absent.tflite in the wheel "
        "(needed by ready.model as wheeled; is this ready-model@2.0.0?)"
    )
    assert cache_leftovers(ready_package.cache) == []

    tarball = ready_package.make(files=[{**FILES[1], "wheel_member": "m/x.tflite"}])  # a plain file, not a zip
    assert _error(ready_package.store(), tarball) == (
        f"{tarball}: package/landmark.tflite: not a readable wheel (zip) (File is not a zip file)"
    )
    assert cache_leftovers(ready_package.cache) == []


def test_a_failed_reimport_keeps_the_installed_model(ready_package: SimpleNamespace) -> None:
    store = ready_package.store()
    (model,) = store.import_tarballs([ready_package.tarball])
    before = {p.name: p.read_bytes() for p in model.directory.iterdir()}
    tarball = ready_package.make(files=[{**FILES[0], "range": [11, 10_000]}])
    assert "past the end of the file" in _error(ready_package.store(), tarball)
    assert cache_leftovers(ready_package.cache) == ["ready.model"]
    assert {p.name: p.read_bytes() for p in model.directory.iterdir()} == before


def test_verify_finds_a_changed_or_missing_file(ready_package: SimpleNamespace) -> None:
    store = ready_package.store()
    (model,) = store.import_tarballs([ready_package.tarball])
    (model.directory / "palm.tflite").write_bytes(b"tampered")
    (model.directory / "landmark.tflite").unlink()
    (row,) = store.verify()
    assert row.problems == (
        f"{model.directory / 'landmark.tflite'}: missing",
        f"{model.directory / 'palm.tflite'}: sha256 differs from the install record (modified or corrupt)",
    )


def test_quantize_is_refused(ready_package: SimpleNamespace, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^model ready\.model cannot be quantized: int8 is not supported for it"):
        ready_package.store().quantize("ready.model", tmp_path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"precisions": ["fp32", "int8"]}, r"ready\.yaml: precisions: \['fp32'\] was expected$"),
        ({"files": [{**FILES[0], "sha256": "ABC"}]}, r"ready\.yaml: files/0/sha256: 'ABC' does not match "),
        ({"files": [{**FILES[0], "member": "../up.data"}]}, r"ready\.yaml: files/0/member: '\.\./up\.data' should not"),
        ({"files": [{**FILES[0], "range": [5, 5]}]}, r"ready\.yaml: files: file palm: range \[5, 5\) is empty"),
        ({"files": [FILES[0], {**FILES[1], "role": "palm"}]}, r"ready\.yaml: files: a role is listed twice"),
        ({"files": [FILES[0], "model.json"]}, r"ready\.yaml: files/1: 'model\.json' is not of type 'object'$"),
        ({"graph": "model.json"}, r"ready\.yaml: \(top level\): 'outputs' is a required property$"),
    ],
)
def test_bad_manifests_name_file_and_field(ready_package: SimpleNamespace, changes: dict, message: str) -> None:
    ready_package.make(**changes)
    with pytest.raises(UserError, match=message):
        ready_package.store().manifests()


def test_cli_list_shows_role_files_and_origin(
    ready_package: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.modelstore import cli, store

    monkeypatch.setenv("ORCHESTRATOR_MODELS", str(ready_package.cache))
    monkeypatch.setattr(store, "packaged_manifests_dir", lambda: ready_package.tarball.parent / "manifests")
    ready_package.store().import_tarballs([ready_package.tarball])
    assert cli.cmd_list(SimpleNamespace()) == 0
    listing = capsys.readouterr().out
    assert (
        f"  litert fp32 palm.tflite          sha256 {_sha(PALM)}  from package/assets/packed.data[11:32]\n" in listing
    )
    assert "  input      16x16\n" in listing


def test_pull_packs_the_pinned_package(ready_package: SimpleNamespace, tmp_path: Path) -> None:
    log = tmp_path / "npm.log"
    npm = tmp_path / "fake-npm"
    npm.write_text(f'#!/bin/sh\necho "$@" > {log}\ncp {ready_package.tarball} ready-model-2.0.0.tgz\n')
    npm.chmod(0o755)
    (model,) = ready_package.store().pull(["ready.model"], npm=str(npm))
    assert log.read_text() == "pack ready-model@2.0.0 --silent\n"
    assert model.name == "ready.model" and (model.directory / "palm.tflite").read_bytes() == PALM


# --------------------------------------------------------------------------- the real package
MEDIAPIPE_TARBALL = "npm/mediapipe-hands-0.4.1675469240.tgz"
MEDIAPIPE_SHA256 = {
    "palm_detection_full": "2f25e740121983f68ffc05f99991d524dc0ea812134f6316a26125816941ee85",
    "palm_detection_lite": "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
    "hand_landmark_full": "8c026882c9ec059ce0f8e75266bee5a9a23c341a40e0000df755374d3d1b9b68",
    "hand_landmark_lite": "d7fde8ac11f8ce03f8663775bfc323f4fc9f2a38062b4f4efa142874ef5b2a48",
}


def test_shipped_mediapipe_manifest() -> None:
    manifest = ModelStore().manifest("hands.mediapipe")
    assert (manifest.spec, manifest.tarball_name, manifest.licence) == (
        "@mediapipe/hands@0.4.1675469240",
        "mediapipe-hands-0.4.1675469240.tgz",
        "Apache-2.0",
    )
    assert manifest.integrity == (
        "sha512-GxoZvL1mmhJxFxjuyj7vnC++JIuInGznHBin5c7ZSq/RbcnGyfEcJrkM/bMu5K1Mz/2Ko+vEX6/+wewmEHPrHg=="
    )
    assert {f.role: f.sha256 for f in manifest.litert_files} == MEDIAPIPE_SHA256
    assert [f.range for f in manifest.litert_files] == [(11, 2341291), (2341291, 4326731), None, None]
    assert (manifest.labels, manifest.input_size, manifest.precisions) == (("hand",), (192, 192), ("fp32",))


@pytest.mark.real_model
def test_real_mediapipe_package(tmp_path: Path) -> None:
    from ai_edge_litert.interpreter import Interpreter

    tarball = shared_path(MEDIAPIPE_TARBALL)
    store = ModelStore(tmp_path / "cache")
    (model,) = store.import_tarballs([tarball])
    assert model.name == "hands.mediapipe" and model.precisions == ("fp32",)
    files = model.model_files()
    assert files.roles == tuple(MEDIAPIPE_SHA256)
    for role, sha256 in MEDIAPIPE_SHA256.items():
        path = files.path_of(role)
        assert path == model.directory / f"{role}.tflite" and sha256_file(path) == sha256
        interpreter = Interpreter(model_path=str(path))
        (tensor,) = interpreter.get_input_details()
        size = 192 if role.startswith("palm") else 224
        assert tensor["shape"].tolist() == [1, size, size, 3], role
    assert store.verify(["hands.mediapipe"])[0].ok
    assert cache_leftovers(tmp_path / "cache") == ["hands.mediapipe"]
