"""``validate`` reports every problem of a file in one pass, and prints a pipeline it accepts again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT, make_video, run_cli, shared_path, write_fixture

from orchestrator.config import ConfigError, load_pipeline

UNSET = "ORCHESTRATOR_TEST_UNSET_VAR"

# A valid pipeline, one line per entry; each mistake replaces one line. Lines are 1-based.
VALID = """\
version: 1
name: many
source:
  uri: clip.avi
  fps: 30
  resize: [320, 240]
detectors:
  hands:
    plugin: testing.scripted
    params: {fixture: fx.yaml}
  objects:
    plugin: objects.coco.centernet
    schedule: {every_n_frames: 5}
    params:
      classes: [cup, bottle]
      score_threshold: 0.2
tracker:
  type: sort
  detector: hands
  params: {min_hits: 1, max_age_frames: 30}
relations:
  objects:
    detector: objects
    tracker: {type: sort, params: {min_hits: 1}}
  report:
    holding:
      objects: [cup]
      when: {overlap: {min_iou: 0.2}}
      enter_frames: 3
outputs:
  events: ${ORCHESTRATOR_TEST_UNSET_VAR:-.}/events.jsonl
  records: [detections, tracks]
runtime:
  mode: deterministic
  frame_buffer: 8
"""

# line: (the wrong line, [(line, field) of each problem it gives])
MISTAKES: dict[int, tuple[str, list[tuple[int, str]]]] = {
    1: ("version: 2", [(1, "version")]),
    4: ("  uri: missing.avi", [(4, "source.uri")]),
    5: ("  fps: -5", [(5, "source.fps")]),
    6: ("  size: [320, 240]", [(6, "source.size")]),
    9: ("    plugin: testing.scriptd", [(9, "detectors.hands.plugin")]),
    13: ("    schedule: {every_n_frames: 0}", [(13, "detectors.objects.schedule.every_n_frames")]),
    15: ("      classes: [cup, bottel]", [(14, "detectors.objects.params")]),  # the constructor's: at params
    16: ("      score_threshold: high", [(16, "detectors.objects.params.score_threshold")]),
    19: ("  detector: hand", [(19, "tracker.detector")]),
    20: ("  params: {min_hits: 0, max_age: 30}", [(20, "tracker.params.max_age"), (20, "tracker.params.min_hits")]),
    24: ("    tracker: {type: sort, params: {min_hitz: 1}}", [(24, "relations.objects.tracker.params.min_hitz")]),
    27: ("      objects: [cupp]", [(27, "relations.report.holding.objects[0]")]),
    28: ("      when: {overlap: {min: 0.2}}", [(28, "relations.report.holding.when.overlap.min")]),
    29: ("      enter_frames: zero", [(29, "relations.report.holding.enter_frames")]),
    31: (f"  events: ${{{UNSET}}}/events.jsonl", [(31, "outputs.events")]),
    32: ("  records: [detection, tracks]", [(32, "outputs.records[0]")]),
    34: ("  mode: fast", [(34, "runtime.mode")]),
    35: ("  frame_buffer: 1", [(35, "runtime.frame_buffer")]),
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_video(tmp_path / "clip.avi", frames=3)
    write_fixture(tmp_path / "fx.yaml", {0: [{"box": [10, 20, 110, 140]}]})
    monkeypatch.delenv(UNSET, raising=False)
    return tmp_path


def _with_mistakes(lines: list[int]) -> str:
    text = VALID.splitlines()
    for line in lines:
        text[line - 1] = MISTAKES[line][0]
    return "\n".join(text) + "\n"


def test_the_valid_file_is_valid(workdir: Path) -> None:
    path = workdir / "p.yaml"
    path.write_text(VALID)
    config = load_pipeline(path)
    assert [d.name for d in config.detectors] == ["hands", "objects"]


def test_every_mistake_in_every_section_is_reported_in_one_pass(workdir: Path) -> None:
    path = workdir / "p.yaml"
    path.write_text(_with_mistakes(list(MISTAKES)))
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    found = [(issue.line, issue.path) for issue in info.value.issues]
    expected = [where for _, problems in MISTAKES.values() for where in problems]
    assert found == sorted(expected, key=lambda where: where[0])  # each once, in file order
    # The checks behind the schema's ran too, each with the parameters that were right.
    messages = [str(issue) for issue in info.value.issues]
    assert any("unknown class 'bottel'" in m and "without the parameters with problems: score_threshold" in m
               for m in messages)  # fmt: skip
    assert any("unknown object label 'cupp'" in m for m in messages)
    # The command line: every problem on its own line, file:line: field: message, exit 2.
    result = run_cli("validate", path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == messages
    assert all(line.startswith(f"{path}:") for line in result.stderr.splitlines())


@pytest.mark.parametrize("line", sorted(MISTAKES))
def test_each_mistake_alone_gives_exactly_its_own_problems(workdir: Path, line: int) -> None:
    """No problem hides another and none is reported twice: alone, a mistake gives what it gave among all."""
    path = workdir / "p.yaml"
    path.write_text(_with_mistakes([line]))
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    assert [(issue.line, issue.path) for issue in info.value.issues] == MISTAKES[line][1]


# gen_pipelines.py's files (../shared/cases/faults): (line, field) of every problem, in one pass.
SHARED_FILES = {
    "unknown_keys": [(10, "runtime.frame_bufer"), (11, "extra_top")],
    "wrong_types": [
        (6, "detectors.n.params.delay_ms"),
        (7, "detectors.n.schedule.every_n_frames"),
        (9, "runtime.frame_buffer"),
        (10, "runtime.pace"),
        (12, "outputs.records"),
    ],
    "dup_keys": [(7, "detectors.hands"), (13, "runtime")],
    "python_tag": [(8, "description")],
    "python_tag2": [(4, "detectors.n")],
    "unset_env": [(7, "outputs.events")],
    "tabs": [(4, "")],
    "not_mapping": [(1, "")],
    "empty": [(1, "")],
}


@pytest.fixture(scope="module")
def shared_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    generator = shared_path("cases/faults/gen_pipelines.py")
    out = tmp_path_factory.mktemp("faults")
    subprocess.run([sys.executable, str(generator), str(out)], check=True, capture_output=True, timeout=60)
    return out


@pytest.mark.parametrize(("name", "expected"), SHARED_FILES.items(), ids=SHARED_FILES.keys())
def test_shared_fault_pipelines_report_every_problem_at_once(
    shared_files: Path, name: str, expected: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REL_UNSET_VAR_XYZ", raising=False)
    with pytest.raises(ConfigError) as info:
        load_pipeline(shared_files / f"{name}.yaml")
    assert [(issue.line, issue.path) for issue in info.value.issues] == expected
    if name.startswith("python_tag"):
        assert "YAML tag !!python/" in info.value.issues[0].message
    assert not (shared_files / "PWNED").exists()


STAGE_PIPELINE = """\
version: 1
source: {uri: clip.avi, fps: 12.5, on_bad_frame: stop}
detectors:
  boxes: {plugin: testing.scripted, params: {fixture: fx.yaml}, schedule: {max_fps: 5}}
  refine: {plugin: hands.mediapipe.landmarks, input: boxes}
tracker: {type: sort, detector: boxes, params: {min_hits: 2}}
relations:
  objects: {detector: boxes}
  report:
    near: {when: {near: {max_gap: 0.5}}, enter_seconds: 0.2}
outputs: {records: [detections, tracks, keypoints]}
runtime: {mode: realtime, frame_buffer: 4, pace: false}
"""


@pytest.mark.parametrize("source", ["stage", *sorted(p.name for p in (REPO_ROOT / "pipelines").glob("*.yaml"))])
def test_the_printed_pipeline_is_accepted_again_and_prints_the_same(workdir: Path, source: str) -> None:
    if source == "stage":
        first = workdir / "stage.yaml"
        first.write_text(STAGE_PIPELINE)
    else:
        first = REPO_ROOT / "pipelines" / source
    printed = run_cli("validate", first)
    assert printed.returncode == 0, printed.stderr
    assert "origin:" not in printed.stdout
    second = workdir / "printed.yaml"
    second.write_text(printed.stdout)
    again = run_cli("validate", second)
    assert again.returncode == 0, again.stderr
    assert again.stdout == printed.stdout
    if source == "stage":
        assert "input: boxes" in printed.stdout
        assert "# detectors.refine: hands.mediapipe.landmarks (built-in)" in printed.stdout
