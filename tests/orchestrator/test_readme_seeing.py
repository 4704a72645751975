"""The README's "Seeing what the pipeline sees" commands run as written (a scripted pipeline and clip for
the real ones): the annotated video with its HUD, and the window, under Xvfb when no display is there."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import REPO_ROOT, run_cli
from helpers.scenes import scene_pipeline
from helpers.xvfb import gui_environment

FRAMES = 20


def _commands() -> list[tuple[dict[str, str], list[str]]]:
    """The block's lines as ``(environment assignments, argv)``."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example-seeing -->\n```bash\n(.*?)```", readme, re.S)
    assert match, "README.md has no example-seeing block"
    commands = []
    for line in match.group(1).splitlines():
        words = shlex.split(line)
        env = {}
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            name, value = words.pop(0).split("=", 1)
            env[name] = value
        assert words[:4] == ["python", "-m", "orchestrator", "run"], line
        commands.append((env, words[3:]))
    return commands


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seeing")
    hands = {i: [{"box": [60 + 4 * i, 80, 140 + 4 * i, 180], "score": 0.9}] for i in range(FRAMES)}
    objects = {i: [{"box": [150, 120, 200, 170], "score": 0.6, "label": "cup"}] for i in range(FRAMES)}
    relations = {
        "objects": {"detector": "objects", "tracker": {"type": "sort", "params": {"min_hits": 1}}},
        "report": {"near": {"objects": ["cup"], "when": {"near": {"max_gap": 0.2}}}},
    }
    return scene_pipeline(folder, hands, objects, relations, frames=FRAMES)


def _substituted(argv: list[str], pipeline: Path) -> list[str]:
    assert argv[:2] == ["run", "pipelines/table_scene.yaml"] and argv[argv.index("--source") + 1] == "clip.mp4"
    return ["run", str(pipeline), *(str(pipeline.parent / "clip.avi") if a == "clip.mp4" else a for a in argv[2:])]


def test_readme_video_out_command(scripted: Path, tmp_path: Path) -> None:
    env, argv = _commands()[0]
    assert "--video-out" in argv and not env
    result = run_cli(*_substituted(argv, scripted), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    video = cv2.VideoCapture(str(tmp_path / argv[argv.index("--video-out") + 1]))
    source = cv2.VideoCapture(str(scripted.parent / "clip.avi"))
    frames = 0
    while True:
        ok, annotated = video.read()
        if not ok:
            break
        _, original = source.read()
        frames += 1
        # The HUD's darkened patch (behind its text), top left, is in every frame of the video.
        assert np.median(annotated[2:20, 2:60]) < np.median(original[2:20, 2:60]) - 20
    assert frames == FRAMES


def test_readme_display_commands(scripted: Path, tmp_path: Path) -> None:
    display_commands = [(env, argv) for env, argv in _commands() if "--display" in argv]
    assert len(display_commands) == 2 and display_commands[1][0] == {"ORCHESTRATOR_DISPLAY_SIZE": "960x540"}
    with gui_environment() as (gui_env, _):
        for env, argv in display_commands:
            command = [*_substituted(argv, scripted), "--events", "events.jsonl"]
            result = run_cli(*command, cwd=tmp_path, env={**gui_env, **env})
            assert result.returncode == 0, result.stderr
            assert f"drawing: {FRAMES} frames" in result.stderr, result.stderr
            assert (tmp_path / "events.jsonl").read_text().count('"type":"summary"') == 1
