"""Per-layer measured time against the roofline bound: which layers run furthest below their roof?

    PYTHONPATH=. python3 benchmarks/layer_times.py resnet50 --batch 256 --dtype bfloat16 \
        --device-peak h200-sxm --out reports/bench/layers.json

Builds the model on the GPU (or the CPU: --device cpu, for a check), times every leaf module call with CUDA
events from forward pre/post hooks (the wall clock on a CPU) over --reps forward passes after --warmup, and
prints, per layer row of the traced graph, its roofline least time on the named device, the median measured
time and measured / bound, then the three layers with the largest ratio. The whole forward pass is also timed
without hooks, so the hooks' cost shows. Writes everything as JSON to --out.

Needs torch and this package only (no fvcore, no torchvision).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from statistics import median

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def device_peak(key: str, device_name: str):
    """The peak-table entry named ``key`` (``h200-sxm``), or found by ``key`` in device names (``h200``), or
    the running device's (``auto``)."""
    from cnnprofile.devices import device_by_key, find_device
    from cnnprofile.errors import InputError

    try:
        return device_by_key(key)
    except InputError:
        found = find_device(device_name if key == "auto" else key)
        if found is None:
            raise
        return found


def whole_forward_ms(run, make_timer, reps: int) -> list:
    from cnnprofile.bench.timers import time_iterations

    return time_iterations(make_timer(), run, reps)


def predicted_rows(t, rows: list, peak, batch: int, dtype_name: str, cuda: bool, calibration) -> dict:
    """The latency predictor's view of the traced pass ``t``: seconds and dominant kernel class per graph row
    (the rows ``join`` lines the measured layers up with), the whole pass, and where the calibration is from."""
    import numpy as np
    import torch

    from cnnprofile.analyses.kernels import CLASSES
    from cnnprofile.devices import CPU_KEY
    from cnnprofile.predict.api import prediction_setup
    from cnnprofile.predict.features import traced_arrays
    from cnnprofile.predict.measurements import Step
    from cnnprofile.predict.model import kernel_times

    # the CPU bound's name carries its thread count; its key is "cpu"
    _, cal, where = prediction_setup(peak.key if cuda else CPU_KEY, batch, calibration)
    # the step this script runs: the model cast to the dtype, TF32 as the process allows it
    step = Step(dtype_name, None, tf32_conv=cuda and torch.backends.cudnn.allow_tf32,
                tf32_matmul=cuda and torch.backends.cuda.matmul.allow_tf32)
    arrays = traced_arrays(t)
    times = kernel_times(arrays, cal.params, peak, step)
    inside = arrays.row >= 0
    by_class = np.zeros((len(rows), len(CLASSES)))
    np.add.at(by_class, (arrays.row[inside], arrays.cls[inside].astype(int)), times.total[inside])
    seconds = by_class.sum(axis=1)
    return {"seconds": seconds.tolist(),
            "cls": [CLASSES[int(i)] if s > 0 else None for i, s in zip(by_class.argmax(axis=1), seconds)],
            "total_s": times.seconds, "outside_rows_s": float(times.total[~inside].sum()),
            "calibration": where, "step": step.label}


def against_prediction(layers: list, predicted: dict, forward_ms: float) -> dict:
    """Measured leaf layers against their predicted times, summed per dominant kernel class (the rows a hook
    timed only; functional rows are in the whole pass), the whole pass, and the layers the prediction misses
    by most milliseconds."""
    by_class: dict = {}
    paired = []
    for x, ms, cls in zip(layers, predicted["seconds"], predicted["cls"]):
        if x.measured_ms is None or cls is None:
            continue
        pred = ms * 1e3
        c = by_class.setdefault(cls, {"layers": 0, "measured_ms": 0.0, "predicted_ms": 0.0})
        c["layers"] += 1
        c["measured_ms"] += x.measured_ms
        c["predicted_ms"] += pred
        paired.append({"name": x.name, "call": x.call, "class": cls, "measured_ms": x.measured_ms,
                       "predicted_ms": pred})
    for c in by_class.values():
        c["error"] = c["predicted_ms"] / c["measured_ms"] - 1 if c["measured_ms"] else None
    total = predicted["total_s"] * 1e3
    return {"calibration": predicted["calibration"], "step": predicted["step"],
            "forward_measured_ms": forward_ms, "forward_predicted_ms": total, "forward_error": total / forward_ms - 1,
            "by_class": dict(sorted(by_class.items(), key=lambda kv: -kv[1]["measured_ms"])),
            "furthest_off": sorted(paired, key=lambda p: -abs(p["predicted_ms"] - p["measured_ms"]))[:5]}


def measure(model_name: str, batch: int, dtype_name: str, device: str, peak_key: str, reps: int, warmup: int,
            channels_last: bool, predict: bool = False, calibration: str | None = None) -> dict:
    import torch

    from cnnprofile.bench.layer_times import furthest_below, join, time_layers
    from cnnprofile.bench.timers import CudaEventTimer, WallClockTimer
    from cnnprofile.record.run import traced
    from cnnprofile.inputs import parse_dtype
    from cnnprofile.analyses.roofline import roofline, traffic_of
    from cnnprofile.sources import module_and_shape

    dtype = parse_dtype(dtype_name)
    cuda = device.startswith("cuda")
    device_name = torch.cuda.get_device_name() if cuda else "cpu"
    peak = device_peak(peak_key, device_name)
    t0 = time.perf_counter()
    t = traced(model_name, None, batch, None, dtype)
    graph, name, shape = t.recording, t.name, t.inputs.main.shape
    rows = graph.rows()
    traffic = traffic_of(graph, name, shape, dtype_name)
    roof = roofline(traffic, peak,
                    tf32=not cuda or torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32)
    predicted = predicted_rows(t, rows, peak, batch, dtype_name, cuda, calibration) if predict else None
    t_trace = time.perf_counter() - t0
    del graph, t  # they keep every meta tensor of the trace alive

    if cuda:
        torch.backends.cudnn.benchmark = True
    model, shape, _ = module_and_shape(model_name, None, batch, None, device=device)
    model = model.eval().requires_grad_(False).to(dtype)
    x = torch.randn(shape, device=device, dtype=dtype)
    if channels_last and x.dim() == 4:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def make_timer():
        return CudaEventTimer() if cuda else WallClockTimer(sync)

    with torch.inference_mode():
        def run():
            model(x)

        for _ in range(warmup):  # cuDNN autotuning happens here, before any timing
            run()
        sync()
        forward = whole_forward_ms(run, make_timer, reps)
        times = time_layers(model, run, make_timer, reps, warmup=2)
    sync()
    layers = join(times, rows, traffic.layers, roof.layers)
    top = furthest_below(layers, 3)
    timed = [x for x in layers if x.measured_ms is not None]
    extra = {"against_prediction": against_prediction(layers, predicted, median(forward))} if predicted else {}
    return {
        "model": name, "input_shape": list(shape), "dtype": dtype_name, "device": device,
        "device_name": device_name, "channels_last": channels_last, "reps": reps, "warmup": warmup,
        "torch": torch.__version__, "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "roofline": {k: v for k, v in asdict(roof).items() if k != "layers"},
        "forward_ms_median": median(forward), "forward_ms_min": min(forward),
        "sum_of_timed_layers_ms": sum(x.measured_ms for x in timed),
        "sum_of_least_times_ms": roof.lower_bound_s * 1e3, "trace_s": t_trace,
        "layers": [{**asdict(x), "ratio": x.ratio} for x in layers],
        "furthest_below_roofline": [{**asdict(x), "ratio": x.ratio} for x in top],
        **extra,
    }


def report(doc: dict) -> str:
    r = doc["roofline"]
    lines = [f"{doc['model']} {'x'.join(map(str, doc['input_shape']))} {doc['dtype']} on {doc['device_name']}; "
             f"roofline of {r['device']} ({r['precision']} {r['peak_tflops']:g} TFLOP/s, {r['bandwidth_gbs']:g} "
             f"GB/s); median of {doc['reps']} passes after {doc['warmup']} warm-up", "",
             f"{'Layer':<28} {'Type':<18} {'Bound':<8} {'Least us':>10} {'Measured us':>12} {'Meas/bound':>11}"]
    for x in doc["layers"]:
        measured = "-" if x["measured_ms"] is None else f"{x['measured_ms'] * 1e3:.1f}"
        ratio = "-" if x["ratio"] is None else f"{x['ratio']:.2f}"
        lines.append(f"{x['name'][:28]:<28} {x['type'][:18]:<18} {x['bound']:<8} {x['least_time_ms'] * 1e3:>10.1f} "
                     f"{measured:>12} {ratio:>11}")
    lines += ["", f"Whole forward pass without hooks: median {doc['forward_ms_median']:.3f} ms; sum of timed leaf "
                  f"layers (hooked) {doc['sum_of_timed_layers_ms']:.3f} ms; roofline lower bound "
                  f"{doc['sum_of_least_times_ms']:.3f} ms", "Furthest below their roofline bound (measured / bound):"]
    for x in doc["furthest_below_roofline"]:
        lines.append(f"  {x['name']} (call {x['call']}, {x['type']}, {x['bound']}-bound): "
                     f"{x['measured_ms'] * 1e3:.1f} us measured vs {x['least_time_ms'] * 1e3:.1f} us bound, "
                     f"x{x['ratio']:.1f}")
    p = doc.get("against_prediction")
    if p:
        lines += ["", f"Predicted ({p['step']}; calibration: {p['calibration']}): whole pass "
                      f"{p['forward_predicted_ms']:.3f} ms against {p['forward_measured_ms']:.3f} ms measured "
                      f"({100 * p['forward_error']:+.1f}%); timed layers by their dominant kernel class:"]
        for cls, c in p["by_class"].items():
            err = "-" if c["error"] is None else f"{100 * c['error']:+.1f}%"
            lines.append(f"  {cls:<12} {c['layers']:>4} layers  measured {c['measured_ms']:9.3f} ms  predicted "
                         f"{c['predicted_ms']:9.3f} ms  {err}")
        lines.append("Furthest off (predicted - measured): " + "; ".join(
            f"{x['name']} {x['predicted_ms'] - x['measured_ms']:+.3f} ms" for x in p["furthest_off"]))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when there is one)")
    p.add_argument("--device-peak", default="auto", help="peak-table key (h200-sxm) or a name to search (h200)")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--predict", action="store_true",
                   help="also predict every layer (cnnprofile predict's model) and compare, per kernel class")
    p.add_argument("--calibration", default=None,
                   help="with --predict: a calibration of the peak's device (default: shipped, else transferred)")
    p.add_argument("--out", required=True, help="where to write the JSON")
    a = p.parse_args(argv)

    import torch

    from cnnprofile.errors import CnnprofileError

    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        doc = measure(a.model, a.batch, a.dtype, device, a.device_peak, a.reps, a.warmup, not a.no_channels_last,
                      a.predict, a.calibration)
    except CnnprofileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(report(doc), end="")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
