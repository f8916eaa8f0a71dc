"""Per-layer timing (benchmarks/layer_times.py and cnnprofile.bench.layer_times), on CPU: a fake clock that the
model's own layers advance, so every measured time is known exactly, then the script end to end."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnprofile.bench.layer_times import LayerTimer, furthest_below, join, time_layers
from cnnprofile.devices import device_by_key
from cnnprofile.bench.timers import Timer
from cnnprofile.record.run import record_meta
from cnnprofile.analyses.roofline import roofline, traffic_of

CLOCK = [0.0]  # ms, advanced by the layers below


class FakeTimer(Timer):
    def reset(self):
        self.intervals, self.t0 = [], None

    def __init__(self):
        self.reset()

    def start(self):
        self.t0 = CLOCK[0]

    def stop(self):
        self.intervals.append(CLOCK[0] - self.t0)

    def elapsed_ms(self):
        return list(self.intervals)


class Takes(nn.Module):
    """A 1x1 convolution that takes ``ms`` milliseconds of the fake clock per call."""

    def __init__(self, ms, channels=4):
        super().__init__()
        self.ms, self.conv = ms, nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        CLOCK[0] += self.ms
        return self.conv(x)


class Slow(nn.ReLU):
    def forward(self, x):
        CLOCK[0] += 5.0
        return super().forward(x)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.relu = Takes(1.0), Takes(30.0), Slow()

    def forward(self, x):
        y = self.relu(self.a(x))  # relu's first call
        return self.relu(self.b(y) + x)  # an add in the block's own forward (not timed), relu's second call


def test_every_leaf_call_is_timed_and_joined_to_its_graph_row():
    model = Block()
    x = torch.randn(1, 4, 8, 8)
    times = time_layers(model, lambda: model(x), FakeTimer, reps=4, warmup=2)
    got = {(t.name, t.call): t.times_ms for t in times}
    # Takes wraps its conv: the conv is the leaf, and the time the wrapper adds before it is not the conv's.
    assert got == {("a.conv", 0): (0.0,) * 4, ("relu", 0): (5.0,) * 4, ("b.conv", 0): (0.0,) * 4,
                   ("relu", 1): (5.0,) * 4}
    graph = record_meta(model, (1, 4, 8, 8))
    t = traffic_of(graph, "block", (1, 4, 8, 8), "float32")
    roof = roofline(t, device_by_key("h100-sxm"))
    rows = join(times, graph.rows(), t.layers, roof.layers)
    assert [(r.name, r.call) for r in rows] == [("a.conv", 0), ("relu", 0), ("b.conv", 0), ("(model)", -1),
                                                ("relu", 1)]
    assert [r.measured_ms for r in rows] == [0.0, 5.0, 0.0, None, 5.0]
    relu = rows[1]
    assert relu.ratio == pytest.approx(5.0 / relu.least_time_ms)
    # Two relu calls, each 5 ms against its own bound; zero-time convs have ratio 0; the add is untimed.
    assert [(r.name, r.call) for r in furthest_below(rows, 2)] in ([("relu", 0), ("relu", 1)],
                                                                   [("relu", 1), ("relu", 0)])
    assert len(furthest_below(rows, 3)) == 3 and furthest_below(rows, 3)[2].measured_ms == 0.0


def test_hooks_are_removed_and_warm_up_is_not_counted():
    model = nn.Sequential(Slow(), nn.Flatten())
    x = torch.randn(2, 3)
    with LayerTimer(model, FakeTimer) as lt:
        lt.forward(lambda: model(x))
        lt.reset()
        lt.forward(lambda: model(x))
        assert lt.results()[0].times_ms == (5.0,)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_script_runs_on_cpu_without_fvcore_or_torchvision(tmp_path):
    out = tmp_path / "layers.json"
    code = ("import sys, runpy; sys.modules['fvcore'] = None; sys.modules['torchvision'] = None; "
            "sys.argv = ['layer_times.py', 'lenet5', '--batch', '2', '--dtype', 'float32', '--device', 'cpu', "
            f"'--device-peak', 'cpu', '--reps', '3', '--warmup', '1', '--out', {str(out)!r}]; "
            "runpy.run_path('benchmarks/layer_times.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    doc = json.loads(out.read_text())
    timed = [x for x in doc["layers"] if x["measured_ms"] is not None]
    assert timed and all(x["measured_ms"] > 0 for x in timed)
    assert len(doc["furthest_below_roofline"]) == 3
    ratios = [x["ratio"] for x in doc["furthest_below_roofline"]]
    assert ratios == sorted(ratios, reverse=True) and ratios[-1] >= max(
        x["ratio"] for x in timed if x not in doc["furthest_below_roofline"])
    # On the CPU upper bound no layer can beat its roofline.
    assert all(x["ratio"] >= 1 for x in timed if x["ratio"] is not None)
    assert "Furthest below their roofline bound" in done.stdout


def test_script_compares_each_layer_with_the_latency_prediction(tmp_path):
    # The GPU proof runs this with --predict to see which kernel classes the predictor gets wrong; on the CPU
    # the plumbing is what is checked: the same step and calibration as `cnnprofile predict`, and the
    # per-class sums made of the timed layers only.
    from cnnprofile.predict.api import parse_step, predict

    out = tmp_path / "layers.json"
    cal = Path(__file__).resolve().parent.parent / "reports" / "predict" / "cpu-calibration.json"
    # the CPU's roofs count the process's threads: the script runs with as many as this process
    code = (f"import sys, runpy, torch; torch.set_num_threads({torch.get_num_threads()}); "
            "sys.argv = ['layer_times.py', 'lenet5', '--batch', '2', '--dtype', 'float32', '--device', 'cpu', "
            f"'--device-peak', 'cpu', '--reps', '3', '--warmup', '1', '--predict', '--calibration', {str(cal)!r}, "
            f"'--out', {str(out)!r}]; runpy.run_path('benchmarks/layer_times.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    p = json.loads(out.read_text())["against_prediction"]
    alone = predict("lenet5", device="cpu", batch=2, step=parse_step("float32"), calibration=str(cal))
    assert p["forward_predicted_ms"] == pytest.approx(alone.seconds * 1e3, rel=1e-9)
    assert p["step"] == alone.step == "fp32" and p["calibration"] == str(cal)
    layers = json.loads(out.read_text())["layers"]
    timed = sum(x["measured_ms"] for x in layers if x["measured_ms"] is not None)
    assert sum(c["measured_ms"] for c in p["by_class"].values()) == pytest.approx(timed)
    assert sum(c["predicted_ms"] for c in p["by_class"].values()) <= p["forward_predicted_ms"] + 1e-9
    assert {"conv", "matmul"} <= set(p["by_class"]) and "Predicted (fp32" in done.stdout
