"""Power during the throughput window, driven on a CPU by fake power readers."""
import itertools
import json
import threading
import time

import pytest

from cnnprofile.bench.power import SampledPowerMeter, energy_per_image
from cnnprofile.bench.results import BenchResult, read_results
from cnnprofile.bench.runner import BenchConfig, run_sweep

from bench_helpers import CountingBackend, tiny_source


class MeteredBackend(CountingBackend):
    """A CPU backend whose 'board' reports whatever ``read_watts`` says; counts the meters it hands out."""

    def __init__(self, read_watts):
        super().__init__()
        self._read = read_watts
        self.meters = []

    def power_meter(self):
        meter = SampledPowerMeter(self._read, interval_s=0.005)
        self.meters.append(meter)
        return meter


def test_meter_averages_background_samples_over_the_window():
    values = itertools.cycle([100.0, 300.0])
    lock = threading.Lock()

    def read():
        with lock:
            return next(values)

    meter = SampledPowerMeter(read, interval_s=0.005)
    meter.start()
    time.sleep(0.2)
    avg = meter.stop()
    assert meter.samples >= 10  # the thread really sampled during the window, not only at its ends
    assert 100.0 <= avg <= 300.0 and avg == pytest.approx(200.0, abs=200.0 / meter.samples)
    assert not any(t.name == "power-meter" for t in threading.enumerate())


def test_meter_skips_failed_readings_and_reports_none_when_nothing_was_read():
    def broken():
        raise RuntimeError("NVML: not supported")

    meter = SampledPowerMeter(broken, interval_s=0.005)
    meter.start()
    time.sleep(0.02)
    assert meter.stop() is None
    readings = iter([None, 50.0, RuntimeError("x")] + [None] * 1000)

    def flaky():
        v = next(readings)
        if isinstance(v, Exception):
            raise v
        return v

    meter = SampledPowerMeter(flaky, interval_s=0.005)
    meter.start()
    time.sleep(0.05)
    assert meter.stop() == 50.0 and meter.samples == 1


def test_energy_per_image_is_power_times_window_over_images():
    assert energy_per_image(250.0, 2.0, 1000) == pytest.approx(0.5)
    assert energy_per_image(None, 2.0, 1000) is None


def test_sweep_records_power_and_energy_per_image(tmp_path):
    out = tmp_path / "b.jsonl"
    backend = MeteredBackend(lambda: 180.0)
    cfg = BenchConfig(batch_sizes=(1, 2), warmup=3, max_warmup_s=0.5, warmup_window_s=0.005, min_time_s=0.05)
    results = run_sweep([tiny_source()], cfg, backend, str(out))
    assert [r.status for r in results] == ["ok", "ok"] and len(backend.meters) == 2
    for r in results:
        assert r.power_w == pytest.approx(180.0)
        # power x window / images, and the window's length is images / throughput.
        assert r.energy_per_image_j == pytest.approx(180.0 / r.throughput_ips, rel=1e-9)
    assert [(r.power_w, r.energy_per_image_j) for r in read_results(out)] == \
        [(r.power_w, r.energy_per_image_j) for r in results]


def test_device_without_power_reading_leaves_the_fields_empty(tmp_path):
    cfg = BenchConfig(batch_sizes=(1,), warmup=3, max_warmup_s=0.5, warmup_window_s=0.005, min_time_s=0.02)
    (r,) = run_sweep([tiny_source()], cfg, MeteredBackend(lambda: None))
    assert r.ok and r.power_w is None and r.energy_per_image_j is None
    (r,) = run_sweep([tiny_source()], cfg, CountingBackend())  # the CPU backend has no meter at all
    assert r.ok and r.power_w is None and r.energy_per_image_j is None


def test_results_written_before_the_power_fields_still_read():
    old = {"schema": 1, "model": "m", "batch_size": 1, "status": "ok", "device": "cuda", "device_name": "X",
           "dtype": "float32", "throughput_ips": 10.0}
    r = BenchResult.from_json(json.dumps(old))
    assert r.power_w is None and r.energy_per_image_j is None
    assert BenchResult.from_json(r.to_json()) == r
