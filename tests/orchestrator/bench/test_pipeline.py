"""``bench-pipeline``: the FPS table's shape (figures themselves are measured, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

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
    result = run_cli(
        "bench-pipeline", pipeline, "--source", "clip.avi", "--json", "--plot", "stages.png", cwd=tmp_path
    )
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
