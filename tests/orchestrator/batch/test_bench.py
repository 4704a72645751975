"""``bench-batch``: a row per worker count with the batch's own counts; the Markdown table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.batch.bench import BenchRow, bench_batch, markdown_table
from orchestrator.cli import main


def test_rows_per_worker_count(make_pipeline: Callable[..., Path], clips: dict[str, Path]) -> None:
    rows = bench_batch(make_pipeline(), [clips["a"], clips["b"], clips["broken"]], [1, 2])
    assert [(r.backend, r.workers, r.videos, r.failed, r.frames) for r in rows] == [
        ("local", 1, 2, 1, 27),
        ("local", 2, 2, 1, 27),
    ]
    for row in rows:
        assert row.wall_s > row.mean_video_s > 0
        assert row.videos_per_hour == pytest.approx(2 / row.wall_s * 3600)
        assert row.frames_per_s == pytest.approx(27 / row.wall_s)


def test_table_and_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    table = markdown_table([BenchRow("local", 1, 3, 0, 381, 14.3, 4.2)])
    assert table.splitlines()[-1] == "| local | 1 | 3 | 0 | 381 | 14.3 | 755 | 26.6 | 4.2 |"
    with pytest.raises(SystemExit):
        main(["bench-batch", "p.yaml", "a.mp4", "--workers", "1,0"])
    assert "expected worker counts such as 1,2,4, got '1,0'" in capsys.readouterr().err
