"""``cnnprofile bench --executor ray``: each cell a Ray task holding one GPU, its results the local run's except
for what is measured; without Ray, with an address nothing answers at, or with options that do not go together,
one line and exit 2. The real run starts Ray, with two logical GPUs, inside a network namespace of its own with
only loopback up (``unshare --net``, as root, as tests/test_landscape_ray.py does), so no server it starts is
reachable from outside this machine; the cells time on the CPU."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.bench.results import read_results
from cnnprofile.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SMALL4 = f"{Path(__file__).parent / 'data' / 'landscape' / 'odd_models.py'}:small4"
CELLS = ["lenet5", SMALL4, "--device", "cpu", "--batch-sizes", "1,2", "--iters", "3", "--warmup", "1",
         "--max-warmup", "0.5"]


def _one_line_exit_2(args, output):
    done = CliRunner().invoke(cli, ["bench", *args, "-o", str(output)])
    assert done.exit_code == 2 and len(done.output.splitlines()) == 1, done.output
    assert not output.exists()  # refused before anything is written
    return done.output


def test_without_ray_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    assert "needs Ray" in _one_line_exit_2([*CELLS, "--executor", "ray"], tmp_path / "r.jsonl")


def test_an_address_nothing_answers_at_is_one_line(tmp_path):
    pytest.importorskip("ray")
    out = _one_line_exit_2([*CELLS, "--executor", "ray", "--address", "127.0.0.1:9"], tmp_path / "r.jsonl")
    assert "nothing answers" in out


@pytest.mark.parametrize("extra,message", [
    (["--gpus", "2"], "go with --executor ray"),
    (["--address", "127.0.0.1:9"], "go with --executor ray"),
    (["--executor", "ray", "--address", "127.0.0.1:9", "--gpus", "2"], "drop one of them"),
])
def test_options_that_do_not_go_together_are_one_line(tmp_path, extra, message):
    if "ray" in extra:
        pytest.importorskip("ray")
    assert message in _one_line_exit_2([*CELLS, *extra], tmp_path / "r.jsonl")


class _RayWithoutGpus:
    """Stands in for Ray, as a cluster of two CPUs would answer; records what is asked of it."""

    def __init__(self):
        self.calls = []

    def is_initialized(self):
        return False

    def init(self, **kwargs):
        self.calls.append(("init", kwargs))

    def cluster_resources(self):
        return {"CPU": 2.0}

    def remote(self, **kwargs):
        raise AssertionError("no task may be submitted to a cluster without a GPU")

    def shutdown(self):
        self.calls.append(("shutdown", {}))


def test_a_ray_with_no_gpu_is_one_line_and_shut_down(tmp_path, monkeypatch):
    ray = _RayWithoutGpus()
    monkeypatch.setitem(sys.modules, "ray", ray)
    done = CliRunner().invoke(cli, ["bench", *CELLS, "--executor", "ray", "--no-progress", "-o",
                                    str(tmp_path / "r.jsonl")])
    assert done.exit_code == 2 and "the Ray cluster has no GPU" in done.output, done.output
    assert len([line for line in done.output.splitlines() if not line.startswith("Appending")]) == 1, done.output
    # Started here, on loopback only, with Ray's own GPU count, and shut down again.
    assert ray.calls == [("init", {"num_gpus": None, "_node_ip_address": "127.0.0.1", "include_dashboard": False,
                                   "log_to_driver": False, "configure_logging": False}), ("shutdown", {})]


def _isolated() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


# What a cell's result is whatever ran it: the model, its settings and its counts; with --iters fixed, the timed
# iterations too. Not the timings, the measured memory, nor env (each Ray task is a process of its own).
SAME = ("schema", "model", "batch_size", "status", "device", "device_name", "dtype", "autocast", "channels_last",
        "compile", "cuda_graphs", "train", "optimizer", "error", "flops_per_image", "macs_per_image",
        "train_flops_per_image", "params", "predicted_memory_bytes", "predicted_memory_kind", "prediction_error",
        "peak_tflops", "peak_precision", "peak_memory_kind", "throughput_iters")
PLACED = re.compile(r"^\[\d/4\] (\S+) batch (\d): ok, GPU (\S+) \(CUDA_VISIBLE_DEVICES=(\S*)\) on 127\.0\.0\.1$")


@pytest.mark.slow  # Ray's start and a fresh worker per cell take most of half a minute on two shared cores
def test_cells_are_spread_over_two_logical_gpus_and_give_the_local_rows(tmp_path):
    pytest.importorskip("ray")
    if not _isolated():
        pytest.skip("needs root and unshare to give Ray a network namespace with only loopback")
    on_ray, local = tmp_path / "ray.jsonl", tmp_path / "local.jsonl"
    command = ("ip link set lo up && exec " + " ".join(
        [sys.executable, "-m", "cnnprofile", "bench", *CELLS, "--executor", "ray", "--gpus", "2", "--format",
         "csv", "-o", str(on_ray)]))
    done = subprocess.run(["unshare", "--net", "sh", "-c", command], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    placed = [PLACED.match(line).groups() for line in done.stderr.splitlines() if PLACED.match(line)]
    assert sorted((m.rsplit(":", 1)[-1], int(b)) for m, b, _, _ in placed) == sorted(
        (m, b) for m in ("lenet5", "small4") for b in (1, 2))
    # Each cell held exactly one GPU, and CUDA_VISIBLE_DEVICES said so; both GPUs had cells.
    assert all(gpu in ("0", "1") and visible == gpu for _, _, gpu, visible in placed), placed
    assert {gpu for _, _, gpu, _ in placed} == {"0", "1"}
    assert done.stdout.splitlines()[0].startswith("model,batch_size,status")  # the local summary, as asked

    ran = CliRunner().invoke(cli, ["bench", *CELLS, "--no-progress", "-o", str(local)])
    assert ran.exit_code == 0, ran.output

    def rows(path):
        results = sorted(read_results(path), key=lambda r: (r.model, r.batch_size))
        return [{k: getattr(r, k) for k in SAME} for r in results]

    assert rows(on_ray) == rows(local) and len(rows(local)) == 4
    # A 3x3 convolution, 3 -> 4 channels, on 16x16 (small4): 14*14*4*27 = 21168 MACs, (27 + 1) * 4 parameters.
    small = [r for r in rows(on_ray) if r["model"].endswith("small4")]
    assert {(r["macs_per_image"], r["params"]) for r in small} == {(21_168, 112)}
