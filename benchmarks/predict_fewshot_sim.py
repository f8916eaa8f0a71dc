"""The few-shot prior checked without the RTX 3090 file (docs/benchmarks.md, "Speed predicted", proof 2): on timm's
RTX 4090 file alone, a calibration fitted on four family folds, the fifth fold taken as a "device" whose datasheet
peaks are off by 0.77x, 1x or 1.3x on each roof (the measured times kept: the device's true fractions are then
the fitted ones over those factors), five rows of distinct families refitted (four draws per fold, by a hash of
the name), the fold's other rows scored.

    python benchmarks/predict_fewshot_sim.py --t4090 TIMM_4090.csv --out reports/predict

Compares no refit, the plain two-scale refit this project used before (least squares, soft L1 at 0.1, no prior)
and ``fit.refit_scales`` as shipped (its prior, the base's median |error| as the row width). The misfit
correction of ``predict.fewshot`` is not in it: on one device's file the misfit is the same by construction.
Writes ``fewshot-sim.json``.
"""
import argparse
import json
import os
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from predict_check import family, fold_of, load, FOLDS  # noqa: E402

from cnnprofile.devices import device_by_key  # noqa: E402
from cnnprofile.predict.fit import _Stack, errors, fit, refit_scales  # noqa: E402
from cnnprofile.predict.measurements import read_results  # noqa: E402

FACTORS = (1 / 1.3, 1.0, 1.3)
DRAWS = 4


def plain_refit(samples, base):
    """The earlier few-shot step: both scales by least squares on the rows alone."""
    from scipy.optimize import least_squares

    stack = _Stack(samples)

    def scaled(x):
        a, b = np.exp(x)
        return {**base, "compute": {c: min(1.0, v * a) for c, v in base["compute"].items()},
                "memory": {c: min(1.0, v * b) for c, v in base["memory"].items()}}

    sol = least_squares(lambda x: np.log(stack.seconds(scaled(x))) - np.log(stack.measured), [0.0, 0.0],
                        bounds=([np.log(0.1)] * 2, [np.log(10)] * 2), loss="soft_l1", f_scale=0.1)
    return scaled(sol.x)


def pick(rows, names, draw):
    """Five rows at 224 of distinct families, in the order of a hash of (draw, name)."""
    chosen, families = [], set()
    for j in sorted(range(len(rows)), key=lambda j: zlib.crc32(f"{draw}:{names[j]}".encode())):
        if rows[j].input_shape[-1] == 224 and family(names[j]) not in families:
            chosen.append(j)
            families.add(family(names[j]))
        if len(chosen) == 5:
            break
    return chosen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--t4090", required=True)
    parser.add_argument("--cache", default="benchmarks/.cache/kernels")
    parser.add_argument("--out", default="reports/predict")
    args = parser.parse_args()
    rows, samples = load(read_results(args.t4090), args.cache, device_by_key("rtx-4090"))
    folds = np.array([fold_of(m.architecture) for m in rows])
    scores: dict = {}
    for k in range(FOLDS):
        train = [samples[i] for i in np.flatnonzero(folds != k)]
        base = fit(train)
        row_error = float(np.median(np.abs(errors(train, base))))
        test = np.flatnonzero(folds == k)
        names = [rows[i].architecture for i in test]
        for alpha in FACTORS:
            for beta in FACTORS:
                dev = samples[test[0]].device
                off = replace(dev, tflops={p: v * alpha for p, v in dev.tflops.items()},
                              bandwidth_gbs=dev.bandwidth_gbs * beta)
                target = [replace(samples[i], device=off) for i in test]
                for draw in range(DRAWS):
                    few = pick([rows[i] for i in test], names, draw)
                    rest = [target[j] for j in range(len(target)) if j not in set(few)]
                    fitted = [target[j] for j in few]
                    for method, params in (("none", base), ("plain", plain_refit(fitted, base)),
                                           ("prior", refit_scales(fitted, base, row_error=row_error))):
                        case = f"compute {alpha:.2f}x, memory {beta:.2f}x"
                        scores.setdefault(method, {}).setdefault(case, []).append(
                            float(np.median(np.abs(errors(rest, params)))))
        print(f"fold {k} done", flush=True)
    result = {m: {"per_case_median": {c: round(float(np.median(v)), 4) for c, v in d.items()},
                  "mean_over_cases": round(float(np.mean([np.median(v) for v in d.values()])), 4)}
              for m, d in scores.items()}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "fewshot-sim.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
