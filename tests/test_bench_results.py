"""The JSON-lines contract between ``cnnprofile bench`` and ``cnnprofile report``."""
import json

import pytest

from cnnprofile.bench.results import BenchResult, Latency, append_result, read_results
from cnnprofile.errors import InputError


def _ok(batch=4):
    return BenchResult(model="lenet5", batch_size=batch, status="ok", device="cpu", device_name="Test CPU",
                       dtype="float32", latency_ms=Latency(1.0, 1.2, 1.5, 0.1, 1.05, 0.9, 50),
                       throughput_ips=4000.0, flops_per_image=10, macs_per_image=5, params=7,
                       env={"torch": "x", "date": "2024-01-01T00:00:00Z"})


def test_round_trip_keeps_every_field():
    r = _ok()
    assert BenchResult.from_json(r.to_json()) == r


def test_line_has_the_contract_keys():
    d = json.loads(_ok().to_json())
    for key in ("schema", "model", "batch_size", "status", "error", "device", "device_name", "dtype", "autocast",
                "channels_last", "compile", "cuda_graphs", "latency_ms", "noisy", "throughput_ips",
                "peak_memory_bytes", "predicted_memory_bytes", "flops_per_image", "macs_per_image", "params",
                "achieved_tflops", "peak_tflops", "pct_of_peak", "env"):
        assert key in d, key
    assert d["schema"] == 1
    assert set(d["latency_ms"]) == {"median", "p90", "p99", "iqr", "mean", "min", "n"}


def test_append_keeps_existing_lines_and_reader_skips_truncated_tail(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(_ok(1).to_json() + "\n")
    append_result(path, _ok(2))
    oom = BenchResult(model="lenet5", batch_size=8, status="oom", device="cuda", device_name="G", dtype="float32",
                      error="out of memory")
    append_result(path, oom)
    with open(path, "a") as f:
        f.write('{"schema": 1, "model": "len')  # a write cut short by a kill
    results = read_results(path)
    assert [r.batch_size for r in results] == [1, 2, 8]
    assert results[2].status == "oom" and results[2].latency_ms is None


def test_reader_takes_a_directory_and_rejects_garbage_in_the_middle(tmp_path):
    (tmp_path / "a.jsonl").write_text(_ok(1).to_json() + "\n")
    (tmp_path / "b.jsonl").write_text(_ok(2).to_json() + "\n")
    assert [r.batch_size for r in read_results(tmp_path)] == [1, 2]
    # a line cut short by an interrupted write is skipped; a complete line that is not a result is an error
    (tmp_path / "c.jsonl").write_text('{"schema": 1, "mo\n' + _ok(3).to_json() + "\n")
    assert [r.batch_size for r in read_results(tmp_path / "c.jsonl")] == [3]
    (tmp_path / "d.jsonl").write_text('{"schema": 2}\n' + _ok(3).to_json() + "\n")
    with pytest.raises(InputError, match="d.jsonl:1"):
        read_results(tmp_path / "d.jsonl")


def test_power_fields_round_trip_and_a_line_written_before_them_still_reads(tmp_path):
    from dataclasses import replace

    powered = replace(_ok(), power_w=212.5, energy_per_image_j=0.053)
    d = json.loads(powered.to_json())
    assert (d["power_w"], d["energy_per_image_j"]) == (212.5, 0.053)
    assert BenchResult.from_json(powered.to_json()) == powered
    old = {k: v for k, v in json.loads(_ok().to_json()).items() if k not in ("power_w", "energy_per_image_j")}
    (tmp_path / "old.jsonl").write_text(json.dumps(old) + "\n")
    (r,) = read_results(tmp_path / "old.jsonl")
    assert r.power_w is None and r.energy_per_image_j is None and r.throughput_ips == 4000.0
