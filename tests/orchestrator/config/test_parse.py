"""Pipeline YAML v1: every class of error as ``file:line: field.path: message``, env expansion, resolution."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import REPO_ROOT, make_video, run_cli, shared_path, write_fixture

from orchestrator.config import ConfigError, ConfigIssue, load_pipeline, parse_pipeline
from orchestrator.errors import UserError, exit_code
from orchestrator.registry import DETECTORS

BROKEN_DIR = REPO_ROOT / "tests" / "data" / "pipelines"
PIPELINES_DIR = REPO_ROOT / "pipelines"
UNSET = "ORCHESTRATOR_TEST_UNSET_VAR"


def unknown_plugin_message(name: str) -> str:
    valid = ", ".join(DETECTORS.names())
    return f"unknown detector plugin {name!r}; valid names: {valid}; or give a dotted path package.module:ClassName"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a video ``clip.avi`` and a scripted fixture ``fx.yaml``; the cwd is elsewhere."""
    make_video(tmp_path / "clip.avi", frames=3)
    write_fixture(tmp_path / "fx.yaml", {0: [{"box": [10, 20, 110, 140]}]})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative paths must resolve against the pipeline file, not the cwd
    monkeypatch.delenv(UNSET, raising=False)
    return tmp_path


def write(dir_: Path, text: str, name: str = "p.yaml") -> Path:
    path = dir_ / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def config_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    return info.value


# Each case: pipeline text (line 1 is the first line after the opening quotes) and the exact
# error lines, as `LINE: field.path: message` (the file name is prepended by the test). `{dir}`
# stands for the pipeline's folder.
ERROR_CASES = {
    "yaml-syntax-bad-indent": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
           schedule: {every_n_frames: 2}
        """,
        ["5: (top): invalid YAML: expected <block end>, but found '<block mapping start>'"],
    ),
    "yaml-alias-refused": (
        """
        version: 1
        detectors:
          hands: &h {plugin: testing.noop}
          more: *h
        """,
        ["4: detectors.more: YAML aliases (*h) are not allowed in pipeline files; write the value out"],
    ),
    "yaml-duplicate-keys-all-reported-with-both-lines": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
          hands: {plugin: testing.scripted}
        runtime: {mode: realtime}
        runtime: {frame_buffer: 4}
        """,
        [
            "4: detectors.hands: duplicate key 'hands' (first on line 3); a key may appear once",
            # The rest of the file is still checked, with the value YAML keeps (the last).
            "4: detectors.hands.params: missing required key 'fixture'",
            "6: runtime: duplicate key 'runtime' (first on line 5); a key may appear once",
        ],
    ),
    "yaml-syntax-tab": (
        """
        version: 1
        detectors:
        \thands: {plugin: testing.noop}
        """,
        ["3: (top): invalid YAML: found character '\\t' that cannot start any token"],
    ),
    "yaml-syntax-unclosed-bracket-points-at-opening-line": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            params: {delay_ms: 1
        """,
        ["5: (top): invalid YAML: expected ',' or '}', but got '<stream end>'"],
    ),
    "top-level-list": (
        "- version: 1\n- detectors: {}\n",
        ["1: (top): expected a mapping at the top level, got a list"],
    ),
    "top-level-scalar": (
        "# a comment\njust a string\n",
        ["2: (top): expected a mapping at the top level, got a string"],
    ),
    "top-level-empty": ("", ["1: (top): expected a mapping at the top level, got null"]),
    "unknown-top-level-key": (
        """
        version: 1
        detector:
          hands: {plugin: testing.noop}
        detectors:
          hands: {plugin: testing.noop}
        """,
        [
            "2: detector: unknown key 'detector'; expected one of: description, detectors, name, outputs, "
            "relations, runtime, source, sources, tracker, version"
        ],
    ),
    "unknown-key-in-detector": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            shedule:
              every_n_frames: 2
        """,
        [
            "5: detectors.hands.shedule: unknown key 'shedule'; expected one of: "
            "input, on_error, params, plugin, schedule"
        ],
    ),
    "unknown-key-in-source": (
        """
        version: 1
        source:
          url: clip.avi
        detectors:
          hands: {plugin: testing.noop}
        """,
        [
            "3: source.url: unknown key 'url'; expected one of: decode_threads, fps, on_bad_frame, reconnect, resize, "
            "timeout_s, uri"
        ],
    ),
    "unknown-key-in-schedule": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            schedule:
              every_n_frame: 2
        """,
        [
            "6: detectors.hands.schedule.every_n_frame: unknown key 'every_n_frame'; "
            "expected one of: every_n_frames, max_fps"
        ],
    ),
    "version-as-string": (
        """
        version: "1"
        detectors:
          hands: {plugin: testing.noop}
        """,
        ["1: version: expected 1, got '1'"],
    ),
    "version-2": (
        """
        name: later
        version: 2
        detectors:
          hands: {plugin: testing.noop}
        """,
        ["2: version: expected 1, got 2"],
    ),
    "every-n-frames-as-string": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            schedule:
              every_n_frames: "3"
        """,
        ["6: detectors.hands.schedule.every_n_frames: expected integer, got a string '3'"],
    ),
    "params-as-list": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            params:
              - delay_ms
        """,
        ["5: detectors.hands.params: expected object, got a list ['delay_ms']"],
    ),
    "detector-null": (
        """
        version: 1
        detectors:
          hands:
        """,
        ["3: detectors.hands: expected object, got null"],
    ),
    "append-as-string": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        outputs:
          append: "yes"
        """,
        ["5: outputs.append: expected boolean, got a string 'yes'"],
    ),
    "every-n-frames-0": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            schedule:
              every_n_frames: 0
        """,
        ["6: detectors.hands.schedule.every_n_frames: value 0 is out of range: must be >= 1"],
    ),
    "max-fps-negative": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            schedule:
              max_fps: -1
        """,
        ["6: detectors.hands.schedule.max_fps: value -1 is out of range: must be > 0"],
    ),
    "frame-buffer-1": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        runtime:
          pace: false
          frame_buffer: 1
        """,
        ["6: runtime.frame_buffer: value 1 is out of range: must be >= 2"],
    ),
    "source-fps-0": (
        """
        version: 1
        source:
          fps: 0
        detectors:
          hands: {plugin: testing.noop}
        """,
        ["3: source.fps: value 0 is out of range: must be > 0"],
    ),
    "runtime-mode-unknown": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        runtime:
          mode: fast
        """,
        ["5: runtime.mode: expected one of auto, deterministic, realtime; got 'fast'"],
    ),
    "record-type-unknown": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        outputs:
          records:
            - detections
            - boxes
        """,
        ["7: outputs.records[1]: expected one of detections, tracks, keypoints; got 'boxes'"],
    ),
    "schedule-with-both-keys": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            schedule:
              every_n_frames: 2
              max_fps: 5
        """,
        ["5: detectors.hands.schedule: give exactly one of every_n_frames or max_fps"],
    ),
    "schedule-empty": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            schedule: {}
        """,
        ["5: detectors.hands.schedule: give exactly one of every_n_frames or max_fps"],
    ),
    "missing-detectors": (
        """
        # no detectors at all
        version: 1
        name: nothing
        """,
        ["2: (top): missing required key 'detectors'"],
    ),
    "missing-version": (
        """
        detectors:
          hands: {plugin: testing.noop}
        """,
        ["1: (top): missing required key 'version'"],
    ),
    "empty-detectors": (
        """
        version: 1
        detectors: {}
        """,
        ["2: detectors: must not be empty (at least 1 entry)"],
    ),
    "detector-without-plugin": (
        """
        version: 1
        detectors:
          hands:
            params: {delay_ms: 1}
        """,
        ["3: detectors.hands: missing required key 'plugin'"],
    ),
    "tracker-without-detector": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        tracker:
          type: sort
        """,
        ["4: tracker: missing required key 'detector'"],
    ),
    "detector-name-with-space": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
          "left hand": {plugin: testing.noop}
        """,
        ["4: detectors: name 'left hand' must match ^[A-Za-z_][A-Za-z0-9_.-]*$"],
    ),
    "detector-name-integer": (
        """
        version: 1
        detectors:
          1: {plugin: testing.noop}
        """,
        ["3: detectors: name 1 must be a string; quote it"],
    ),
    "relation-name-null": (
        # Found by a new-user trial: `null:` passed validate, then the run failed in a traceback.
        """
        version: 1
        detectors: {hands: {plugin: testing.noop}}
        tracker: {type: sort, detector: hands}
        relations:
          objects: {detector: hands}
          report:
            null: {when: {near: {max_gap: 0.2}}}
        """,
        ["7: relations.report: name null must be a string; quote it"],
    ),
    "class-name-true": (
        """
        version: 1
        detectors:
          objects:
            plugin: objects.coco.centernet
            params: {class_thresholds: {true: 0.1}}
        """,
        ["5: detectors.objects.params.class_thresholds: name true must be a string; quote it"],
    ),
    "stage-without-input": (
        """
        version: 1
        detectors:
          hands:
            plugin: hands.mediapipe.landmarks
        """,
        [
            "4: detectors.hands: plugin hands.mediapipe.landmarks is a second stage: give input: <the detector whose "
            "boxes it refines>"
        ],
    ),
    "input-on-a-detector-that-is-not-a-stage": (
        """
        version: 1
        detectors:
          a: {plugin: testing.noop}
          b: {plugin: testing.noop, input: a}
        """,
        ["4: detectors.b.input: plugin testing.noop takes no input (it is not a second stage)"],
    ),
    "stage-with-a-schedule-and-stage-inputs": (
        """
        version: 1
        detectors:
          a: {plugin: testing.noop}
          b: {plugin: hands.mediapipe.landmarks, input: a, schedule: {every_n_frames: 2}}
          c: {plugin: hands.mediapipe.landmarks, input: nope}
          d: {plugin: hands.mediapipe.landmarks, input: c}
        """,
        [
            "4: detectors.b.schedule: a second stage runs on its input's frames; it has no schedule of its own",
            "5: detectors.c.input: unknown detector 'nope'; the other detectors: a, d",
            "6: detectors.d.input: 'c' is a second stage itself; give the detector it refines instead",
        ],
    ),
    "unknown-plugin": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.scriptd
        """,
        ["4: detectors.hands.plugin: " + "{unknown:testing.scriptd}"],
    ),
    "plugin-param-unknown": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.scripted
            params:
              fixture: fx.yaml
              foo: 1
        """,
        [
            "7: detectors.hands.params.foo: unknown key 'foo'; expected one of: "
            "delay_ms, fail_at_frame, fixture, jitter_ms, seed"
        ],
    ),
    "plugin-param-out-of-range": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            params:
              delay_ms: -5
        """,
        ["6: detectors.hands.params.delay_ms: value -5 is out of range: must be >= 0"],
    ),
    "plugin-param-missing-required": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.scripted
            params:
              delay_ms: 1
        """,
        ["5: detectors.hands.params: missing required key 'fixture'"],
    ),
    "missing-source-file": (
        """
        version: 1
        source:
          uri: no_such.mp4
        detectors:
          hands: {plugin: testing.noop}
        """,
        ["3: source.uri: no such file or folder: {dir}/no_such.mp4"],
    ),
    "missing-fixture-file": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.scripted
            params:
              fixture: no_such_fixture.yaml
        """,
        ["6: detectors.hands.params.fixture: file not found: {dir}/no_such_fixture.yaml"],
    ),
    "missing-events-folder": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        outputs:
          events: no_such_folder/events.jsonl
        """,
        ["5: outputs.events: folder does not exist: {dir}/no_such_folder"],
    ),
    "unset-env-var": (
        """
        version: 1
        source:
          uri: ${ORCHESTRATOR_TEST_UNSET_VAR}/clip.avi
        detectors:
          hands: {plugin: testing.noop}
        """,
        [
            "3: source.uri: environment variable ORCHESTRATOR_TEST_UNSET_VAR is not set "
            "(use ${ORCHESTRATOR_TEST_UNSET_VAR:-default})"
        ],
    ),
    "unset-env-var-in-fixture-param": (
        """
        version: 1
        detectors:
          hands:
            plugin: testing.scripted
            params:
              fixture: ${ORCHESTRATOR_TEST_UNSET_VAR}
        """,
        [
            "6: detectors.hands.params.fixture: environment variable ORCHESTRATOR_TEST_UNSET_VAR is not set "
            "(use ${ORCHESTRATOR_TEST_UNSET_VAR:-default})"
        ],
    ),
    "tracks-records-without-tracker": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        outputs:
          records: [tracks]
        """,
        ["5: outputs.records: 'tracks' records need a tracker: section"],
    ),
    "keypoints-without-records-to-carry-them": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        outputs:
          records: [keypoints]
        """,
        ["5: outputs.records: 'keypoints' goes into detections or tracks records: add one of them"],
    ),
    "relations-unknown-key": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        tracker: {type: sort, detector: hands}
        relations:
          holding: {}
        """,
        [
            "5: relations: missing required key 'objects'",
            "5: relations: missing required key 'report'",
            "6: relations.holding: unknown key 'holding'; expected one of: objects, report",
        ],
    ),
    "relations-two-predicates-in-one": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        tracker: {type: sort, detector: hands}
        relations:
          objects: {detector: hands}
          report:
            holding:
              when: {near: {max_gap: 0.2}, overlap: {min_iou: 0.1}}
        """,
        ["9: relations.report.holding.when: expected at most 1 key(s), got 2: near, overlap"],
    ),
    "relations-unknown-object-detector": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        tracker: {type: sort, detector: hands}
        relations:
          objects: {detector: objectz}
          report:
            near_anything: {when: {near: {max_gap: 0.2}}}
        """,
        ["6: relations.objects.detector: unknown detector 'objectz'; the pipeline's detectors: hands"],
    ),
    "relations-without-hand-tracker": (
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        relations:
          objects: {detector: hands}
          report:
            near_anything: {when: {near: {max_gap: 0.2}}}
        """,
        ["4: relations: relations need a tracker: section for the hands"],
    ),
    "several-structure-errors-together": (
        """
        version: 1
        colour: red
        detectors:
          hands:
            plugin: testing.noop
            schedule:
              every_n_frames: 0
        runtime:
          frame_buffer: 1
        """,
        [
            "2: colour: unknown key 'colour'; expected one of: description, detectors, name, outputs, "
            "relations, runtime, source, sources, tracker, version",
            "7: detectors.hands.schedule.every_n_frames: value 0 is out of range: must be >= 1",
            "9: runtime.frame_buffer: value 1 is out of range: must be >= 2",
        ],
    ),
    "several-resolution-errors-together": (
        """
        version: 1
        source:
          uri: no_such.mp4
        detectors:
          hands:
            plugin: nope
          objects:
            plugin: testing.scripted
            params: {fixture: no_such_fixture.yaml}
          more:
            plugin: testing.noop
            params: {delay_ms: -1}
        """,
        [
            "3: source.uri: no such file or folder: {dir}/no_such.mp4",
            "6: detectors.hands.plugin: {unknown:nope}",
            "9: detectors.objects.params.fixture: file not found: {dir}/no_such_fixture.yaml",
            "12: detectors.more.params.delay_ms: value -1 is out of range: must be >= 0",
        ],
    ),
    # One pass: schema problems, then everything the schema accepted is still resolved and checked.
    "every-kind-of-error-in-one-pass": (
        """
        version: 2
        source:
          uri: no_such.mp4
        detectors:
          hands:
            plugin: testing.noop
            schedule: {every_n_frames: 0}
            params: {delay_ms: -1}
          objects:
            plugin: nope
        tracker: {type: sort, detector: hand}
        outputs:
          events: no_such_folder/events.jsonl
          records: [boxes]
        relations:
          objects: {detector: objectz}
          report:
            holding: {when: {near: {max_distance: 1}}}
            broken: {when: {overlap: {min_iou: 2}}}
        """,
        [
            "1: version: expected 1, got 2",
            "3: source.uri: no such file or folder: {dir}/no_such.mp4",
            "7: detectors.hands.schedule.every_n_frames: value 0 is out of range: must be >= 1",
            "8: detectors.hands.params.delay_ms: value -1 is out of range: must be >= 0",
            "10: detectors.objects.plugin: {unknown:nope}",
            "11: tracker.detector: unknown detector 'hand'; the pipeline's detectors: hands, objects",
            "13: outputs.events: folder does not exist: {dir}/no_such_folder",
            "14: outputs.records[0]: expected one of detections, tracks, keypoints; got 'boxes'",
            "16: relations.objects.detector: unknown detector 'objectz'; the pipeline's detectors: hands, objects",
            "18: relations.report.holding.when.near: max_distance does not apply to measure 'gap'; use max_gap",
            "19: relations.report.broken.when.overlap.min_iou: value 2 is out of range: must be <= 1",
        ],
    ),
}


def expand_expected(line: str, pipeline: Path) -> str:
    line = line.replace("{dir}", str(pipeline.parent.resolve()))
    line = re.sub(r"\{unknown:([^}]+)\}", lambda m: unknown_plugin_message(m.group(1)), line)
    return f"{pipeline}:{line}"


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_error_is_reported_as_file_line_field_message(workdir: Path, text: str, expected: list[str]) -> None:
    path = write(workdir, text)
    error = config_error(path)
    assert str(error).splitlines() == [expand_expected(line, path) for line in expected]
    assert len(error.issues) == len(expected)
    assert all(isinstance(issue, ConfigIssue) and issue.file == str(path) for issue in error.issues)
    assert isinstance(error, UserError)
    assert exit_code(error) == 2


def test_issue_fields_match_the_text(workdir: Path) -> None:
    path = write(
        workdir,
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            shedule: {every_n_frames: 2}
        """,
    )
    (issue,) = config_error(path).issues
    assert (issue.file, issue.line, issue.path) == (str(path), 5, "detectors.hands.shedule")
    assert issue.message.startswith("unknown key 'shedule'")


def test_unknown_plugin_lists_the_valid_names(workdir: Path) -> None:
    path = write(workdir, "version: 1\ndetectors:\n  hands: {plugin: no.such.plugin}\n")
    (issue,) = config_error(path).issues
    assert issue.line == 3
    assert issue.path == "detectors.hands.plugin"
    for name in ("testing.scripted", "testing.noop"):
        assert name in issue.message


def test_tracker_referencing_an_unknown_detector(workdir: Path) -> None:
    # Only the detector reference is checked here, whether or not a `sort` tracker is registered.
    path = write(
        workdir,
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
          cups: {plugin: testing.noop}
        tracker:
          type: sort
          detector: hand
        """,
    )
    issues = [issue for issue in config_error(path).issues if issue.path == "tracker.detector"]
    assert [str(issue) for issue in issues] == [
        f"{path}:7: tracker.detector: unknown detector 'hand'; the pipeline's detectors: hands, cups"
    ]


# ---------------------------------------------------------------------------- ${VAR} expansion
@pytest.mark.parametrize(
    ("uri", "env", "expected_name"),
    [
        ("${CLIP_DIR}/clip.avi", {"CLIP_DIR": "{dir}"}, "clip.avi"),
        ("${CLIP_NAME}", {"CLIP_NAME": "clip.avi"}, "clip.avi"),
        ("${CLIP_NAME:-clip.avi}", {}, "clip.avi"),
        ("${CLIP_NAME:-missing.avi}", {"CLIP_NAME": "clip.avi"}, "clip.avi"),
        ("${CLIP_DIR:-.}/${CLIP_NAME:-clip.avi}", {}, "clip.avi"),
    ],
    ids=["var", "relative-var", "default-used", "var-beats-default", "two-defaults"],
)
def test_env_expansion_in_source_uri(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, uri: str, env: dict[str, str], expected_name: str
) -> None:
    for name in ("CLIP_DIR", "CLIP_NAME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{dir}", str(workdir)))
    path = write(workdir, f"version: 1\nsource:\n  uri: {uri}\ndetectors:\n  hands: {{plugin: testing.noop}}\n")
    config = load_pipeline(path)
    assert config.source.uri == str((workdir / expected_name).resolve())


def test_env_expansion_in_plugin_path_param_and_events(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIXTURES", str(workdir))
    monkeypatch.delenv("OUT_DIR", raising=False)
    path = write(
        workdir,
        """
        version: 1
        detectors:
          hands:
            plugin: testing.scripted
            params: {fixture: "${FIXTURES}/fx.yaml"}
        outputs:
          events: ${OUT_DIR:-out}.jsonl
        """,
    )
    config = load_pipeline(path)
    assert config.detector("hands").params["fixture"] == str(workdir / "fx.yaml")
    assert config.outputs.events == str(workdir / "out.jsonl")


# ---------------------------------------------------------------------------- what a valid file resolves to
def test_valid_pipeline_resolves_relative_to_its_file(workdir: Path) -> None:
    path = write(
        workdir,
        """
        version: 1
        name: demo
        source: {uri: clip.avi, fps: 15}
        detectors:
          hands:
            plugin: testing.scripted
            params: {fixture: fx.yaml, seed: 3}
          objects:
            plugin: testing.noop
            schedule: {max_fps: 5}
          slow:
            plugin: testing.noop
            schedule: {every_n_frames: 4}
        outputs: {events: events.jsonl, append: true, records: [detections]}
        runtime: {mode: realtime, frame_buffer: 8, pace: false}
        """,
    )
    config = load_pipeline(path)
    assert config.name == "demo"
    assert config.source.uri == str(workdir / "clip.avi")
    assert config.source.fps == 15
    assert [d.name for d in config.detectors] == ["hands", "objects", "slow"]
    hands, objects, slow = config.detectors
    assert (hands.plugin, hands.origin, hands.every_n_frames, hands.max_fps) == (
        "testing.scripted",
        "built-in",
        1,
        None,
    )
    assert hands.params == {"fixture": str(workdir / "fx.yaml"), "seed": 3}
    assert hands.line == 5  # the `hands:` key
    assert (objects.every_n_frames, objects.max_fps) == (None, 5)
    assert (slow.every_n_frames, slow.max_fps) == (4, None)
    assert config.outputs.events == str(workdir / "events.jsonl")
    assert (config.outputs.append, config.outputs.records) == (True, ("detections",))
    assert (config.runtime.mode, config.runtime.frame_buffer, config.runtime.pace) == ("realtime", 8, False)
    assert config.tracker is None


@pytest.mark.parametrize(
    ("uri", "expected"),
    [("0", 0), ("2", 2), ("rtsp://camera.local/stream", "rtsp://camera.local/stream")],
    ids=["camera-string", "camera-int", "url"],
)
def test_source_uri_camera_and_url_are_not_paths(workdir: Path, uri: str, expected: object) -> None:
    path = write(workdir, f"version: 1\nsource: {{uri: '{uri}'}}\ndetectors:\n  h: {{plugin: testing.noop}}\n")
    assert load_pipeline(path).source.uri == expected


def test_name_defaults_to_the_file_stem(workdir: Path) -> None:
    path = write(workdir, "version: 1\ndetectors:\n  h: {plugin: testing.noop}\n", name="my_pipe.yaml")
    config = load_pipeline(path)
    assert config.name == "my_pipe"
    assert config.source.uri is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "absent.yaml", "pipeline file not found"),
        (lambda d: d, "is a folder, expected a pipeline YAML file"),
        (
            lambda d: (d / "latin1.yaml").write_bytes(b"version: 1\nname: caf\xe9\n") and d / "latin1.yaml",
            "cannot read",
        ),
    ],
    ids=["missing", "folder", "not-utf8"],
)
def test_unreadable_pipeline_file_is_a_user_error(workdir: Path, make, message: str) -> None:
    path = make(workdir)
    with pytest.raises(UserError) as info:
        load_pipeline(path)
    assert not isinstance(info.value, ConfigError)
    assert str(info.value).startswith(f"{path}: {message}")


def test_parse_pipeline_uses_the_given_path_in_messages() -> None:
    with pytest.raises(ConfigError) as info:
        parse_pipeline("version: 1\ndetectors: {}\n", Path("virtual/pipe.yaml"))
    assert str(info.value) == "virtual/pipe.yaml:2: detectors: must not be empty (at least 1 entry)"


# ---------------------------------------------------------------------------- broken examples through the CLI
# tests/data/pipelines/NAME -> the error lines `validate` prints (after the `PATH:` prefix); `{dir}` is the
# absolute folder of the examples.
BROKEN_EXAMPLES = {
    "bad_yaml.yaml": ["6: (top): invalid YAML: expected ',' or ']', but got '<stream end>'"],
    "not_a_mapping.yaml": ["2: (top): expected a mapping at the top level, got a list"],
    "unknown_key.yaml": [
        "6: detectors.hands.shedule: unknown key 'shedule'; expected one of: input, on_error, params, plugin, schedule"
    ],
    "unknown_plugin.yaml": ["5: detectors.hands.plugin: {unknown:testing.scriptd}"],
    "bad_schedule.yaml": ["7: detectors.hands.schedule.every_n_frames: value 0 is out of range: must be >= 1"],
    "missing_files.yaml": [
        "4: source.uri: no such file or folder: {dir}/no_such_video.mp4",
        "9: detectors.hands.params.fixture: file not found: {dir}/no_such_fixture.yaml",
    ],
    "unset_env.yaml": [
        "4: source.uri: environment variable ORCHESTRATOR_TEST_UNSET_VAR is not set "
        "(use ${ORCHESTRATOR_TEST_UNSET_VAR:-default})"
    ],
    "multiple_errors.yaml": [
        "7: detectors.hands.schedule.max_fps: value -1 is out of range: must be > 0",
        "11: runtime.frame_buffer: value 1 is out of range: must be >= 2",
        "12: runtime.mode: expected one of auto, deterministic, realtime; got 'fast'",
    ],
}


def test_every_broken_example_has_an_expectation() -> None:
    on_disk = sorted(p.name for p in BROKEN_DIR.glob("*.yaml"))
    assert on_disk == sorted(BROKEN_EXAMPLES)


@pytest.mark.parametrize(("name", "expected"), BROKEN_EXAMPLES.items(), ids=BROKEN_EXAMPLES.keys())
def test_cli_validate_reports_broken_example(name: str, expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    relative = BROKEN_DIR.relative_to(REPO_ROOT) / name
    result = run_cli("validate", relative, cwd=REPO_ROOT)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [expand_expected(line, relative) for line in expected]
    # The same issues in-process, with the path as given.
    with pytest.raises(ConfigError) as info:
        load_pipeline(BROKEN_DIR / name)
    assert [issue.line for issue in info.value.issues] == [int(line.split(":")[0]) for line in expected]


# ---------------------------------------------------------------------------- the repo's own pipelines
_MISSING_FILE = re.compile(r"^.+?:\d+: \S+: (?:file not found|no such file or folder|folder does not exist): (.+)$")
REPO_PIPELINES = sorted(PIPELINES_DIR.glob("*.yaml")) + sorted(PIPELINES_DIR.glob("*.yml"))


@pytest.mark.parametrize(
    "pipeline",
    REPO_PIPELINES
    or [pytest.param(None, marks=pytest.mark.skip(reason=f"no pipeline files under {PIPELINES_DIR} yet"))],
    ids=[p.name for p in REPO_PIPELINES] or ["none"],
)
def test_cli_validate_accepts_repo_pipeline(pipeline: Path) -> None:
    result = run_cli("validate", pipeline.relative_to(REPO_ROOT), cwd=REPO_ROOT)
    if result.returncode != 0:
        lines = result.stderr.splitlines()
        missing = [m.group(1) for m in map(_MISSING_FILE.match, lines) if m]
        outside = [p for p in missing if not Path(p).resolve().is_relative_to(REPO_ROOT)]
        if lines and len(outside) == len(lines):
            pytest.skip(f"{pipeline.name} needs files outside the repository: {', '.join(outside)}")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    comments = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert result.stdout.split("\n", len(comments))[-1].startswith("version: 1\n")
    assert comments and all(" (" in line for line in comments)  # each plugin's origin


# ------------------------------------------------------------- constructors checked at load time
SORT_LOW_ABOVE_HIGH = "sort tracker: low_score (0.5) must not exceed high_score (0.1)"


def test_tracker_constructor_errors_have_their_params_line(workdir: Path) -> None:
    path = write(
        workdir,
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        tracker:
          type: sort
          detector: hands
          params: {high_score: 0.1, low_score: 0.5}
        relations:
          objects:
            detector: hands
            tracker:
              type: sort
              params: {high_score: 0.1, low_score: 0.5}
          report:
            near_anything: {when: {near: {max_gap: 0.2}}}
        """,
    )
    assert str(config_error(path)).splitlines() == [
        f"{path}:7: tracker.params: {SORT_LOW_ABOVE_HIGH}",
        f"{path}:13: relations.objects.tracker.params: {SORT_LOW_ABOVE_HIGH}",
    ]


def test_tracker_of_an_unknown_detector_is_still_checked(workdir: Path) -> None:
    path = write(
        workdir,
        """
        version: 1
        detectors:
          hands: {plugin: testing.noop}
        tracker:
          type: sort
          detector: handz
          params: {high_score: 0.1, low_score: 0.5, min_hitz: 3}
        """,
    )
    lines = str(config_error(path)).splitlines()
    assert lines[0] == f"{path}:6: tracker.detector: unknown detector 'handz'; the pipeline's detectors: hands"
    assert lines[1].startswith(f"{path}:7: tracker.params.min_hitz: unknown key 'min_hitz'; expected one of: ")
    # The constructor still sees the parameters that are right, and says which were left out.
    assert lines[2:] == [
        f"{path}:7: tracker.params: {SORT_LOW_ABOVE_HIGH} (checked without the parameters with problems: min_hitz)"
    ]
    path.write_text(path.read_text().replace(", min_hitz: 3", ""))
    assert str(config_error(path)).splitlines() == [
        f"{path}:6: tracker.detector: unknown detector 'handz'; the pipeline's detectors: hands",
        f"{path}:7: tracker.params: {SORT_LOW_ABOVE_HIGH}",
    ]


def test_detector_constructor_errors_come_with_the_schema_problems(workdir: Path) -> None:
    path = write(
        workdir,
        """
        version: 1
        detectors:
          hands:
            plugin: testing.noop
            schedule: {every_n_frames: 0}
          objects:
            plugin: objects.coco.centernet
            params:
              classes: [cup, mug, bottel]
              class_thresholds: {phone: 0.1}
        """,
    )
    assert str(config_error(path)).splitlines() == [
        f"{path}:5: detectors.hands.schedule.every_n_frames: value 0 is out of range: must be >= 1",
        f"{path}:8: detectors.objects.params: objects.coco.centernet: parameter classes: unknown classes 'mug', "
        "'bottel' (closest: bottle, bowl, boat); parameter class_thresholds: unknown class 'phone' "
        "(closest: cell phone, spoon, horse); 80 valid class names, see `python -m orchestrator plugins --json`",
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("{input_size: [512, 384]}", None),
        ("{input_size: [512, 512], runtime: tf}", None),
        (
            "{input_size: [640, 480]}",
            "[640, 480] is not a size the model store builds for objects.coco.centernet: [512, 512], [512, 384] "
            "(another size goes in input.other_sizes of its manifest, then re-import the model)",
        ),
        (
            "{input_size: [512, 384], runtime: tf}",
            "[512, 384] runs on runtime litert only; runtime tf runs objects.coco.centernet at its own [512, 512]",
        ),
        ("{input_size: [500, 384]}", "500 is not a multiple of 32"),  # the schema: reported once, by it
    ],
)
def test_input_sizes_the_store_does_not_build_are_reported(workdir: Path, params: str, message: str | None) -> None:
    # The plugin's schema allows any multiple of 32; only the sizes the store builds load, so
    # `validate` says so rather than the run failing at model load.
    section = f"  objects:\n    plugin: objects.coco.centernet\n    params: {params}\n"
    path = write(workdir, f"version: 1\ndetectors:\n{section}")
    if message is None:
        load_pipeline(path)
        return
    [line] = str(config_error(path)).splitlines()
    assert line.startswith(f"{path}:5: detectors.objects.params.input_size") and line.endswith(message), line


def test_oversized_file_is_refused_before_parsing(workdir: Path) -> None:
    path = workdir / "big.yaml"
    path.write_text("version: 1\n" + "# padding\n" * 120_000, encoding="utf-8")
    error = config_error(path)
    assert str(error).startswith(f"{path}:1: (top): file is ") and "at most 1048576 (1 MiB)" in str(error)


def test_a_file_of_too_many_values_is_refused_quickly(workdir: Path) -> None:
    """Under the size cap, 340 000 values took 19 s to read; the node cap stops it in well under a second."""
    path = workdir / "many.yaml"
    path.write_text("version: 1\nname: x\nlabels: [" + ",".join(["0"] * 340_000) + "]\n", encoding="utf-8")
    started = time.perf_counter()
    error = config_error(path)
    assert time.perf_counter() - started < 5.0  # measured ~0.7 s; generous for a loaded machine
    assert str(error) == f"{path}:3: (top): more than 20000 values; a pipeline file has a few hundred"


def test_shared_alias_bombs_are_refused_at_once(tmp_path: Path) -> None:
    # ../shared/cases/faults/gen_pipelines.py writes a 594-byte billion-laughs file (9**9 leaves).
    generator = shared_path("cases/faults/gen_pipelines.py")
    subprocess.run([sys.executable, str(generator), str(tmp_path)], check=True, capture_output=True, timeout=60)
    for name, line, where in (("alias_bomb", 9, "lol1[0]"), ("alias_bomb_params", 5, "defs.lol1[0]")):
        path = tmp_path / f"{name}.yaml"
        started = time.perf_counter()
        error = config_error(path)
        assert time.perf_counter() - started < 1.0
        # Never followed: each alias is one issue at its first use (with its field), and the rest of the file
        # is still checked (the bombs' top-level keys are unknown keys).
        aliases = [str(issue) for issue in error.issues if "alias" in issue.message]
        assert aliases[0] == (
            f"{path}:{line}: {where}: YAML aliases (*a0) are not allowed in pipeline files; write the value out "
            "(9 uses of *a0, the first here)"
        )
        assert len(aliases) == 9 + (name == "alias_bomb_params")
        assert [issue.line for issue in error.issues] == sorted(issue.line for issue in error.issues)
