"""The latency predictor on this machine's CPU: calibrated from ``bench --device cpu`` runs of half the models,
scored on the other half, at batch 1 and 8.

    python benchmarks/predict_cpu_check.py --out reports/predict

Two benchmark runs, one after the other over every model (paired: the same cells twice): the calibration is
fitted on run A's rows of the fitted models only; run B's rows of the other models are scored (run A's too,
and the run-to-run difference of the measurements themselves is reported beside, as the noise floor). The
models are split by a rule fixed before any error was seen: sorted by name, every other one is fitted.
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODELS = sorted(["torchvision:resnet18", "torchvision:resnet34", "torchvision:mobilenet_v2",
                 "torchvision:mobilenet_v3_large", "torchvision:squeezenet1_0", "torchvision:googlenet",
                 "torchvision:densenet121", "torchvision:regnet_y_800mf", "torchvision:efficientnet_b0",
                 "torchvision:mnasnet1_0", "torchvision:shufflenet_v2_x1_0", "torchvision:resnext50_32x4d"])
FITTED = MODELS[::2]
SCORED = MODELS[1::2]


def bench(path: str) -> None:
    if os.path.exists(path):
        return
    subprocess.run([sys.executable, "-m", "cnnprofile", "bench", *MODELS, "--device", "cpu", "--batch-sizes", "1,8",
                    "--min-time", "0.5", "--max-warmup", "5", "-o", path], check=True)


def main():
    from cnnprofile.devices import device_by_key
    from cnnprofile.predict.api import calibrate, samples_of
    from cnnprofile.predict.fit import errors
    from cnnprofile.predict.measurements import read_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="reports/predict")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    a, b = os.path.join(args.out, "cpu-run-a.jsonl"), os.path.join(args.out, "cpu-run-b.jsonl")
    bench(a)
    bench(b)
    rows_a, rows_b = read_results(a), read_results(b)
    fit_file = os.path.join(args.out, "cpu-fit-rows.jsonl")
    with open(a) as src, open(fit_file, "w") as dst:
        dst.writelines(line for line in src if json.loads(line)["model"] in FITTED)
    cache = {}
    cal, _ = calibrate([fit_file], device="cpu", cache=cache)
    cal.save(os.path.join(args.out, "cpu-calibration.json"))
    device = device_by_key("cpu")
    result = {"fitted": FITTED, "scored": SCORED, "threads": rows_a[0].device, "calibration_fit_error":
              cal.fit_median_error}
    for name, rows in (("run_b", rows_b), ("run_a", rows_a)):
        scored = [m for m in rows if m.model in SCORED]
        samples, _ = samples_of(scored, device, cache)
        err = errors(samples, cal.params)
        result[name] = {f"batch_{n}": dict(rows=int(sum(m.batch == n for m in scored)),
                                           median_abs_error=round(float(np.median(np.abs(
                                               [e for e, m in zip(err, scored) if m.batch == n]))), 4))
                        for n in (1, 8)}
        result[name]["rows"] = [(m.model, m.batch, round(m.seconds * 1e3, 3), round(float(e), 3))
                                for m, e in zip(scored, err)]
    pairs = {(m.model, m.batch): m.seconds for m in rows_a}
    noise = [abs(m.seconds / pairs[(m.model, m.batch)] - 1) for m in rows_b if (m.model, m.batch) in pairs]
    result["run_to_run_median_abs_difference"] = round(float(np.median(noise)), 4)
    with open(os.path.join(args.out, "cpu-check.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k not in ("run_a", "run_b")}, indent=1))
    for name in ("run_b", "run_a"):
        print(name, {k: v for k, v in result[name].items() if k != "rows"})


if __name__ == "__main__":
    main()
