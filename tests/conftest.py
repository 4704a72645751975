"""Shared test fixtures; the plain helpers they wrap live in the ``helpers`` package (tests/helpers).

Real-model fixtures need ``../shared`` (next to the repository); they skip with a reason naming
the missing path when it is absent. The real models are converted once per session into a
temporary ``ORCHESTRATOR_MODELS`` folder.
"""

from __future__ import annotations

import subprocess
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from helpers import (
    CENTERNET_TARBALL,
    HAND_TARBALL,
    MEDIAPIPE_TARBALL,
    TinyTfjs,
    add_bytes,
    make_video,
    run_cli,
    shared_path,
    validate_records,
    write_fixture,
)


@pytest.fixture
def tiny_tfjs() -> TinyTfjs:
    """A `TinyTfjs` builder."""
    return TinyTfjs()


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


@pytest.fixture(scope="session")
def real_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real models imported (and the EgoHands model quantized on 20 EgoHands frames) into a temp cache."""
    from orchestrator.modelstore import ModelStore

    tarballs = [shared_path(HAND_TARBALL), shared_path(CENTERNET_TARBALL), shared_path(MEDIAPIPE_TARBALL)]
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs a real model (through the real-model fixtures) ``real_model``."""
    for item in items:
        if {"real_models", "real_model_cache"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_model)
