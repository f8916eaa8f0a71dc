"""The Ray executor: the same rows as the local one; without Ray, or with an address nothing answers at, one
line and exit 2. The real run starts Ray inside a network namespace of its own with only loopback up
(``unshare --net``, as root), so no server it starts is reachable from outside this machine."""
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli
from cnnprofile.landscape import read_rows, sweep

ROOT = Path(__file__).resolve().parents[1]
MODELS = Path(__file__).parent / "data" / "landscape" / "odd_models.py"


def test_without_ray_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    done = CliRunner().invoke(cli, ["sweep", f"{MODELS}:small4", "--store", str(tmp_path / "s.db"),
                                    "--executor", "ray"])
    assert done.exit_code == 2 and len(done.output.splitlines()) == 1 and "needs Ray" in done.output, done.output
    assert not (tmp_path / "s.db").exists()


def test_an_address_nothing_answers_at_is_one_line(tmp_path):
    pytest.importorskip("ray")
    done = CliRunner().invoke(cli, ["sweep", f"{MODELS}:small4", "--store", str(tmp_path / "s.db"),
                                    "--executor", "ray", "--address", "127.0.0.1:9"])
    assert done.exit_code == 2 and len(done.output.splitlines()) == 1, done.output
    assert "nothing answers" in done.output and not (tmp_path / "s.db").exists()


def _isolated() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


# The sweep starts Ray itself, on loopback (RayExecutor), in the namespace.
SCRIPT = """
import sys
from cnnprofile.landscape import sweep
sweep(sys.argv[1].split(","), sys.argv[2], executor="ray", jobs=2, timeout=60)
"""


@pytest.mark.slow  # Ray's start takes most of half a minute on two shared cores
def test_a_ray_sweep_gives_the_local_rows(tmp_path):
    pytest.importorskip("ray")
    if not _isolated():
        pytest.skip("needs root and unshare to give Ray a network namespace with only loopback")
    specs = [f"{MODELS}:{n}" for n in ("small4", "segfault", "raises", "small8")]
    ray_store, script = tmp_path / "ray.db", tmp_path / "run.py"
    script.write_text(SCRIPT)
    command = f"ip link set lo up && exec {sys.executable} {script} {','.join(specs)} {ray_store}"
    done = subprocess.run(["unshare", "--net", "sh", "-c", command], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]

    local_store = tmp_path / "local.db"
    sweep(specs, str(local_store), jobs=2, timeout=60)

    def comparable(rows):  # what differs run to run: the time taken and when, and how Ray words a crash
        return [replace(r, seconds=None, finished_at="", reason="" if r.failure == "worker crashed" else r.reason)
                for r in rows]

    ray_rows, local_rows = read_rows(str(ray_store)), read_rows(str(local_store))
    assert comparable(ray_rows) == comparable(local_rows)
    assert {r.model.rsplit(":", 1)[1]: r.failure for r in ray_rows} == {
        "small4": "", "small8": "", "segfault": "worker crashed", "raises": "build error"}
