"""``cnnprofile bench`` end to end on a CPU with the zoo's LeNet-5, and its one-line errors."""
import json
import os
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner

from cnnprofile.cli import cli

FAST = ["--device", "cpu", "--min-time", "0.01", "--max-warmup", "0.3", "--warmup", "0", "--no-progress"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_bench_appends_results_and_keeps_existing_lines(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text('{"earlier": "line"}')  # an existing file, even one whose last line was cut short
    r = run("bench", "lenet5", "--batch-sizes", "1,2", "--format", "json", "-o", str(out), *FAST)
    assert r.exit_code == 0, r.output
    shown = json.loads(r.stdout)
    assert [(c["model"], c["batch_size"], c["status"]) for c in shown] == [("lenet5", 1, "ok"), ("lenet5", 2, "ok")]
    lines = out.read_text().splitlines()
    assert lines[0] == '{"earlier": "line"}' and len(lines) == 3
    cell = json.loads(lines[2])
    assert cell["schema"] == 1 and cell["device"] == "cpu" and cell["latency_ms"]["n"] >= 10
    assert cell["throughput_ips"] > 0 and cell["achieved_tflops"] > 0 and cell["pct_of_peak"] is None
    assert cell["env"]["cpu_threads"] >= 1 and cell["env"]["date"].endswith("Z")


def test_text_summary_labels_flops_and_csv_has_a_header(tmp_path):
    r = run("bench", "lenet5", "--batch-sizes", "1", "--iters", "3", "-o", str(tmp_path / "a.jsonl"), *FAST)
    assert r.exit_code == 0, r.output
    assert "FLOPs = 2 x MACs" in r.stdout and "lenet5" in r.stdout and "Images/s" in r.stdout
    r = run("bench", "lenet5", "--batch-sizes", "1", "--iters", "3", "--format", "csv",
            "-o", str(tmp_path / "b.jsonl"), *FAST)
    assert r.stdout.splitlines()[0].startswith("model,batch_size,status")


@pytest.mark.parametrize("args,message", [
    (["--batch-sizes", "0"], "'0' is not a positive integer"),
    (["--batch-sizes", "1,-4"], "'-4' is not a positive integer"),
    (["--batch-sizes", "1.5"], "'1.5' is not a positive integer"),
    (["--batch-sizes", "two"], "'two' is not a positive integer"),
    (["--dtype", "float64"], "unsupported dtype"),
    (["--dtype", "float32", "--autocast"], "--autocast needs"),
    (["--cuda-graphs"], "--cuda-graphs needs a CUDA device"),
    (["--output", "/proc/no-such-dir/r.jsonl"], "directory '/proc/no-such-dir' does not exist"),
    (["--output", "."], "is a directory"),
    (["nosuchnet"], "unknown model"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    args = args if args and not args[0].startswith("-") else ["lenet5", *args]
    r = run("bench", *args, *FAST)
    assert r.exit_code == 2
    assert message in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_a_gpu_is_one_line_and_exit_2():
    r = run("bench", "lenet5", "--device", "cuda", "--no-progress")
    assert r.exit_code == 2 and "--device cuda" in r.output and len(r.output.strip().splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_gpu_check_refuses_without_cuda():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu_check.py")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and "needs a CUDA GPU" in p.stderr
