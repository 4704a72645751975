"""The project as a wheel: built with ``pip wheel .``, installed into a fresh venv, run from outside the checkout.

The venv gets the wheel itself (``--no-deps``); its third-party dependencies come from the
development venv's site-packages through a ``.pth`` line (a plain path: the editable install's
own ``.pth`` hooks there are not run), so the test takes seconds to set up, not a download.
It then imports the models from ``../shared/npm/*.tgz`` (tarballs no manifest knows are skipped),
lists them and runs ``pipelines/hands_only.yaml`` on five frames of an egodex clip, with the
current folder outside the repository. Skips, naming the missing path, without ``../shared``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import REPO_ROOT, SHARED

pytestmark = pytest.mark.real_model  # builds a wheel, imports both real models and runs a pipeline

REPO = REPO_ROOT

CLIP = SHARED / "data" / "egodex" / "add_remove_lid_0.mp4"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


def _run(python: Path, *args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def test_wheel_runs_models_import_list_and_a_pipeline_outside_the_checkout(tmp_path: Path) -> None:
    tarballs = sorted(_need(SHARED / "npm").glob("*.tgz"))
    clip = _need(CLIP)
    assert not tmp_path.resolve().is_relative_to(REPO)

    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", str(wheels)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert "deprecat" not in (build.stdout + build.stderr).lower()
    (wheel,) = wheels.glob("hands_orchestrator-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path, env=dict(os.environ)
        ).stdout.strip()
    )
    (site / "dev_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL"}}
    env["ORCHESTRATOR_MODELS"] = str(tmp_path / "models")
    where = _run(
        python,
        "-c",
        "import orchestrator, detectors; print(orchestrator.__file__, detectors.__file__)",
        cwd=work,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    assert all(Path(p).is_relative_to(site) for p in where.stdout.split()), where.stdout

    imported = _run(python, "-m", "orchestrator", "models", "import", *tarballs, cwd=work, env=env)
    assert imported.returncode == 0, imported.stderr
    assert "installed hands.egohands (handtrackjs@0.0.13): fp32 in " in imported.stdout
    assert "installed objects.coco.centernet (@vladmandic/human@3.3.6): fp32 in " in imported.stdout
    assert "installed hands.mediapipe (@mediapipe/hands@0.4.1675469240): fp32 in " in imported.stdout
    for line in imported.stderr.splitlines():  # only our warnings: no TensorFlow start-up or CUDA lines
        assert line.startswith("warning: ") and line.endswith("; skipped"), imported.stderr

    listed = _run(python, "-m", "orchestrator", "models", "list", cwd=work, env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"model cache: {tmp_path / 'models'}\n" in listed.stdout
    assert listed.stdout.count("litert fp32 model.fp32.tflite") == 2 and "not installed" not in listed.stdout

    pipeline = REPO / "pipelines" / "hands_only.yaml"
    events = work / "events.jsonl"
    ran = _run(
        python,
        "-m",
        "orchestrator",
        "run",
        pipeline,
        "--source",
        clip,
        "--max-frames",
        "5",
        "--events",
        events.name,
        "-q",
        cwd=work,
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    assert not any(noise in ran.stderr for noise in ("cuInit", "I0000", "W0000", "E0000")), ran.stderr
    summary = json.loads(events.read_text().splitlines()[-1])
    assert summary["type"] == "summary" and summary["status"] == "completed"
    assert summary["frames"]["processed"] == 5 and summary["detectors"]["hands"]["runs"] == 5
