"""``bench-pipeline``: the FPS table's shape (figures themselves are measured, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import make_video, write_fixture, write_pipeline


def test_bench_pipeline_json_rows_and_plot(tmp_path: Path, run_cli) -> None:
    make_video(tmp_path / "clip.avi", frames=12, size=(480, 360))
    write_fixture(tmp_path / "hands.yaml", {i: [{"box": [40, 60, 120, 160]}] for i in range(12)})
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        detectors:
          hands: {plugin: testing.scripted, params: {fixture: hands.yaml}}
          slow: {plugin: testing.noop, params: {delay_ms: 2}, schedule: {every_n_frames: 2}}
        tracker: {type: sort, detector: hands}
        """,
    )
    result = run_cli("bench-pipeline", pipeline, "--source", "clip.avi", "--json", "--plot", "stages.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {(r["mode"], r["width"], r["height"], r["display"]) for r in rows} == {
        (mode, w, h, display)
        for mode in ("sequential", "threaded")
        for w, h in ((320, 240), (640, 480), (480, 360))
        for display in (False, True)
    }
    assert all(r["fps"] > 0 for r in rows)
    assert (tmp_path / "stages.png").stat().st_size > 1000


def test_baseline_seed_runs_both_loops_and_reports_their_ratio(tmp_path: Path, run_cli, real_models: Path) -> None:
    """``--baseline seed``: the seed loop (real EgoHands model in TensorFlow) against a pipeline, same frames."""
    make_video(tmp_path / "clip.avi", frames=8, size=(480, 360))
    write_fixture(tmp_path / "hands.yaml", {i: [{"box": [40, 60, 120, 160]}] for i in range(8)})
    pipeline = write_pipeline(
        tmp_path / "p.yaml",
        """
        version: 1
        detectors:
          hands: {plugin: testing.scripted, params: {fixture: hands.yaml}}
        tracker: {type: sort, detector: hands}
        outputs: {records: [tracks]}
        """,
    )
    args = ("bench-pipeline", pipeline, "--source", "clip.avi", "--baseline", "seed", "--runs", "2")
    result = run_cli(*args, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["frames"] == 8 and len(out["runs"]) == 2
    assert all(r["seed_fps"] > 0 and r["pipeline_fps"] > 0 for r in out["runs"])
    assert out["ratio"] == pytest.approx(out["pipeline_fps"] / out["seed_fps"], rel=2e-3)  # fps are rounded
    assert set(out["seed_cpu_ms"]) == {"decode", "resize", "convert", "detect: hands.egohands (tf)"}
    assert {"decode", "detect: hands", "track", "records", "drawing"} <= set(out["pipeline_cpu_ms"])
    assert "relate" not in out["pipeline_cpu_ms"]  # no relations: section
    # the scripted detector takes RGB, so its frames are converted once each
    assert "convert" in out["pipeline_cpu_ms"]
    text = run_cli(*args[:-2], "--runs", "1", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert " ratio" in text.stdout and "seed loop" in text.stdout and "x\n" in text.stdout


def test_baseline_compares_several_pipelines_on_several_sources_in_one_run(
    tmp_path: Path, run_cli, real_models: Path
) -> None:
    make_video(tmp_path / "a.avi", frames=4, size=(320, 240))
    make_video(tmp_path / "b.avi", frames=6, size=(480, 360))
    one = write_pipeline(tmp_path / "one.yaml", "version: 1\nname: one\ndetectors: {hands: {plugin: testing.noop}}\n")
    two = write_pipeline(tmp_path / "two.yaml", "version: 1\nname: two\ndetectors: {hands: {plugin: testing.noop}}\n")
    args = ("bench-pipeline", one, two, "--source", "a.avi", "--source", "b.avi", "--baseline", "seed", "--runs", "1")
    result = run_cli(*args, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [(Path(e["source"]).name, e["pipeline"], e["frames"]) for e in entries] == [
        ("a.avi", "one", 4), ("a.avi", "two", 4), ("b.avi", "one", 6), ("b.avi", "two", 6)
    ]
    # the pipelines on one source share its seed runs
    assert entries[0]["seed_fps"] == entries[1]["seed_fps"] and entries[2]["seed_fps"] == entries[3]["seed_fps"]
    text = run_cli(*args, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert sum(line.startswith(("a.avi", "b.avi")) for line in text.stdout.splitlines()) == 4


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--baseline", "seed", "--runs", "0"), "--runs: expected an integer >= 1, got 0"),
        (("--runs", "2"), "--runs: only with --baseline seed (the table is one run of each row)"),
        (("--max-frames", "0"), "--max-frames: expected an integer >= 1, got 0"),
        (("--source", "clip.avi"), "several pipelines or --source options: only with --baseline seed"),
        (("--baseline", "seed", "--plot", "x.png"), "--plot: not with --baseline"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path: Path, run_cli, extra: tuple[str, ...], message: str) -> None:
    make_video(tmp_path / "clip.avi", frames=2)
    pipeline = write_pipeline(tmp_path / "p.yaml", "version: 1\ndetectors: {hands: {plugin: testing.noop}}\n")
    result = run_cli("bench-pipeline", pipeline, "--source", "clip.avi", *extra, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr.strip().splitlines()[-1]
