"""The benchmark sweep on a CPU: statistics, warm-up, OOM handling, roofline check, peaks registry."""
import json

import pytest

from bench_helpers import CountingBackend, ScriptedTimer, tiny_source
from cnnprofile.bench import stats
from cnnprofile.devices import peak_tflops, precision_for
from cnnprofile.bench.results import read_results
from cnnprofile.bench.runner import BenchConfig, run_sweep
from cnnprofile.present.bench_summary import render

FAST = dict(min_time_s=0.01, max_warmup_s=0.2, warmup_window_s=0.002, warmup=0, min_iters=5)


def test_percentiles_interpolate_like_numpy():
    xs = [4.0, 1.0, 3.0, 2.0]
    assert stats.median(xs) == 2.5
    assert stats.percentile(xs, 90) == pytest.approx(3.7)
    assert stats.iqr(xs) == pytest.approx(3.25 - 1.75)
    lat = stats.summarize(xs)
    assert (lat.min, lat.mean, lat.n) == (1.0, 2.5, 4)


def test_noisy_flag_is_iqr_over_ten_percent_of_median():
    assert not stats.is_noisy(stats.summarize([10.0] * 7 + [10.5] * 3))
    assert stats.is_noisy(stats.summarize([10.0, 12.0] * 5))


def test_sweep_records_oom_and_goes_on(tmp_path):
    out = tmp_path / "r.jsonl"
    backend = CountingBackend()
    results = run_sweep([tiny_source(oom_from_batch=4)], BenchConfig(batch_sizes=(1, 4, 2), **FAST), backend, str(out))
    assert [r.status for r in results] == ["ok", "oom", "ok"]
    oom = results[1]
    assert oom.latency_ms is None and oom.throughput_ips is None and "out of memory" in oom.error
    assert backend.freed == 3  # memory released after every cell, the failed one included
    assert [r.status for r in read_results(out)] == ["ok", "oom", "ok"]
    ok = results[2]
    assert ok.latency_ms.n >= 5 and ok.throughput_ips > 0 and ok.flops_per_image > 2 * ok.macs_per_image > 0
    assert ok.predicted_memory_bytes > 0 and ok.env["date"] and ok.env["torch"]


def test_result_above_the_roofline_is_invalid_and_never_shown(tmp_path):
    results = run_sweep([tiny_source()], BenchConfig(batch_sizes=(2,), **FAST), CountingBackend(peak=1e-15))
    r = results[0]
    assert r.status == "invalid" and "exceeds" in r.error and r.pct_of_peak > 100
    text = render(results, "text")
    row = next(line for line in text.splitlines() if line.startswith("tiny"))
    assert "invalid" in row and f"{r.throughput_ips:.4g}" not in row
    assert json.loads(render(results, "json"))[0]["throughput_ips"] is None


def test_scripted_timer_drives_latency_statistics_and_noise_flag():
    cfg = BenchConfig(batch_sizes=(1,), iters=20, **{k: v for k, v in FAST.items()})
    steady = run_sweep([tiny_source()], cfg, CountingBackend(), timer=ScriptedTimer([2.0]))[0]
    assert steady.latency_ms.median == 2.0 and steady.latency_ms.n == 20 and not steady.noisy
    assert steady.warmup_stable
    noisy = run_sweep([tiny_source()], cfg, CountingBackend(), timer=ScriptedTimer([1.0, 3.0]))[0]
    assert noisy.noisy and noisy.latency_ms.median == 2.0


def test_warm_up_is_bounded_when_timings_never_settle():
    # warm-up windows are 3 iterations here, so window medians alternate 1 ms, 3 ms forever
    cfg = BenchConfig(batch_sizes=(1,), iters=5, **FAST)
    r = run_sweep([tiny_source()], cfg, CountingBackend(), timer=ScriptedTimer([1.0] * 3 + [3.0] * 3))[0]
    assert r.status == "ok" and r.warmup_stable is False


@pytest.mark.parametrize("name,dtype,tf32,expected", [
    ("NVIDIA H100 80GB HBM3", "bfloat16", True, 989.5),
    ("NVIDIA H100 PCIe", "float16", True, 756.5),
    ("NVIDIA H200", "float32", True, 494.5),
    ("NVIDIA A100-SXM4-80GB", "float32", False, 19.5),
    ("Tesla T4", "float32", True, 8.1),  # no TF32 units: plain FP32
    ("NVIDIA A10", "bfloat16", True, 125.0),
    ("NVIDIA GeForce RTX 4090", "bfloat16", True, 165.2),
    ("Some Future GPU", "bfloat16", True, None),
])
def test_peak_registry_lookup(name, dtype, tf32, expected):
    assert peak_tflops(name, precision_for(dtype, tf32)) == expected
