"""The ``models`` CLI hook, called through argparse and the handlers directly."""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest

from orchestrator import modelstore
from orchestrator.errors import UserError
from orchestrator.modelstore import cli as modelstore_cli
from orchestrator.modelstore import store


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator")
    modelstore_cli.register(parser.add_subparsers(dest="command"))
    return parser


@pytest.fixture
def tiny_default_store(tiny_package: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Make the module-level functions use the tiny package's manifests and cache."""
    monkeypatch.setenv("ORCHESTRATOR_MODELS", str(tiny_package.cache))
    monkeypatch.setattr(store, "packaged_manifests_dir", lambda: tiny_package.manifests)
    return tiny_package


def _run(parser: argparse.ArgumentParser, *argv: str) -> int:
    args = parser.parse_args(["models", *argv])
    return args.handler(args)


def test_import_list_verify(parser, tiny_default_store, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(parser, "list") == 0
    listing = capsys.readouterr().out
    assert "tiny.model\n  source     tiny-model@1.0.0\n" in listing
    assert "  status     not installed" in listing
    assert _run(parser, "verify") == 1
    assert "tiny.model: not installed" in capsys.readouterr().out
    assert _run(parser, "import", str(tiny_default_store.tarball)) == 0
    assert "installed tiny.model (tiny-model@1.0.0): fp32" in capsys.readouterr().out
    assert _run(parser, "verify", "tiny.model") == 0
    assert capsys.readouterr().out == "tiny.model: ok\n"
    assert _run(parser, "list") == 0
    listing = capsys.readouterr().out
    record = modelstore.ModelStore().installed("tiny.model").record
    for file, info in record["files"].items():
        assert f"{file:<20} sha256 {info['sha256']}" in listing
    assert "litert fp32 model.fp32.tflite" in listing


def test_quantize_arguments_and_errors(parser, tiny_default_store, tmp_path) -> None:
    args = parser.parse_args(
        ["models", "quantize", "tiny.model", "--calibration-images", str(tmp_path), "--count", "5"]
    )
    assert (args.name, args.calibration_images, args.count) == ("tiny.model", tmp_path, 5)
    with pytest.raises(UserError, match="not installed"):
        args.handler(args)
    with pytest.raises(SystemExit):
        parser.parse_args(["models", "quantize", "tiny.model"])  # --calibration-images is required


def test_import_skips_unknown_packages_with_a_warning(
    parser, tiny_default_store, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "mediapipe-hands-0.4.1675469240.tgz"
    other.write_bytes(b"a package with no manifest")
    assert _run(parser, "import", str(other), str(tiny_default_store.tarball)) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        f"warning: {other}: not a known model package (sha512 matches no manifest); "
        "expected one of: tiny-model-1.0.0.tgz; skipped\n"
    )
    assert captured.out.startswith("installed tiny.model (tiny-model@1.0.0): fp32 in ")
    with pytest.raises(UserError, match="not a known model package"):
        _run(parser, "import", str(other))


def test_verify_of_an_unknown_name(parser, tiny_default_store) -> None:
    with pytest.raises(UserError, match="unknown model 'nope'"):
        _run(parser, "verify", "nope")
