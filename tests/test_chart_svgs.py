"""``charts.svgs``: several charts rendered at once, half in a forked copy of the process, exactly as one by one.

The forking cases run in a fresh process: a test process may hold threads of earlier tests, and then
``svgs`` forks nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from cnnprofile.present.charts import svgs
from cnnprofile.present.charts.style import figure

fork_only = pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="needs fork and 2 cores")


def _job(i: int, log):
    def draw():
        with open(log, "a") as f:  # which process drew it
            f.write(f"{i} {os.getpid()}\n")
        fig, ax = figure(3, 2)
        ax.plot([0, 1, 2], [i, i * i, 1])
        ax.set_title(f"chart {i}")
        return fig
    return draw, f"c{i}"


def _drawers(log) -> dict:
    return {int(i): int(pid) for i, pid in (line.split() for line in open(log))}


def _fresh(tmp_path, body: str) -> None:
    code = (f"import os, sys\nsys.path.insert(0, {os.path.dirname(__file__)!r})\n"
            "from test_chart_svgs import _drawers, _job\nfrom cnnprofile.present.charts import svgs, to_svg\n"
            f"log = {str(tmp_path / 'log')!r}\n" + textwrap.dedent(body) + "\nprint('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


@fork_only
def test_half_the_charts_are_drawn_in_a_copy_and_come_back_in_order(tmp_path):
    _fresh(tmp_path, """
        jobs = [_job(i, log) for i in range(5)]
        together = svgs(jobs)
        drawers = _drawers(log)
        assert {i for i, pid in drawers.items() if pid == os.getpid()} == {0, 2, 4}, drawers
        assert len({pid for i, pid in drawers.items() if i in (1, 3)} - {os.getpid()}) == 1, drawers
        one_by_one = [to_svg(draw(), salt=salt) for draw, salt in jobs]
        assert together == one_by_one and all(f"chart {i}" in svg for i, svg in enumerate(together))
    """)


@fork_only
def test_a_copy_that_fails_leaves_its_charts_to_this_process(tmp_path):
    _fresh(tmp_path, """
        parent = os.getpid()

        def failing_in_the_copy():
            if os.getpid() != parent:
                open(log + ".tried", "w").write(str(os.getpid()))
                raise RuntimeError("the copy cannot draw")
            return _job(1, log)[0]()

        jobs = [_job(0, log), (failing_in_the_copy, "c1"), _job(2, log)]
        out = svgs(jobs)
        assert int(open(log + ".tried").read()) != parent  # the copy was made, and failed
        assert set(_drawers(log).values()) == {parent}
        assert out == [to_svg(draw(), salt=salt) for draw, salt in jobs]
    """)


def test_with_another_thread_running_every_chart_is_drawn_here(tmp_path):
    log, stop = tmp_path / "log", threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        out = svgs([_job(i, log) for i in range(3)])
    finally:
        stop.set()
        other.join()
    assert set(_drawers(log).values()) == {os.getpid()} and len(out) == 3
