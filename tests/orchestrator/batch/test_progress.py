"""The progress line: counts, frames per second and the ETA; redrawn on a terminal, a line each otherwise."""

from __future__ import annotations

import io

from orchestrator.batch.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_eta_from_the_inputs_run_not_the_skipped() -> None:
    out = io.StringIO()
    times = iter([100.0, 110.0, 130.0])
    progress = Progress(total=10, skipped=4, stream=out, clock=lambda: next(times))
    progress.finished("done", frames=100)
    progress.finished("failed")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(
        "5/10 inputs (1 done, 0 failed, 4 skipped), 100 frames, 10.0 frames/s, 0:00:10 elapsed, ETA 0:00:50"
    )
    # Two inputs ran in 30 s, four are left: 60 s.
    assert lines[1].endswith(
        "6/10 inputs (1 done, 1 failed, 4 skipped), 100 frames, 3.3 frames/s, 0:00:30 elapsed, ETA 0:01:00"
    )


def test_terminal_redraws_in_place_and_messages_go_above() -> None:
    out = _Tty()
    times = iter([0.0, 1.0, 2.0])
    progress = Progress(total=2, stream=out, clock=lambda: next(times))
    progress.finished("done", frames=5)
    progress.message("failed: x.mp4: broken")
    progress.finished("done", frames=5)
    progress.close()
    text = out.getvalue()
    assert text.count("\n") == 2 and text.count("\r\033[K") == 3
    assert text.endswith("ETA 0:00:00\n")


def test_disabled_draws_nothing_but_messages() -> None:
    out = io.StringIO()
    progress = Progress(total=1, stream=out, enabled=False)
    progress.finished("failed")
    progress.message("failed: x")
    assert out.getvalue() == "failed: x\n" and progress.failed == 1
