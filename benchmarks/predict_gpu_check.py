"""Speed predicted for a GPU before it is measured, then measured and scored (the GPU proof of the predictor).

    python benchmarks/predict_gpu_check.py --preregister reports/predict/gpu-preregistered.json   # anywhere
    python benchmarks/predict_gpu_check.py --measure reports/bench/NAME.jsonl                     # on the GPU
    python benchmarks/predict_gpu_check.py --score reports/bench/NAME.jsonl                       # anywhere

1. ``--preregister`` predicts, for every Hopper key in ``cnnprofile devices`` (the card lent may be any of
   them), the forward pass of 20 timm models at batch 8 and 256 under fp16 autocast over float32 weights, NCHW,
   eager: the step timm's RTX 4090 file measured, which the shipped calibration was fitted on and is moved from
   through the datasheet peaks (no Hopper card's measurement enters it). The models are chosen by a rule fixed
   before anything is measured: the distinct model names of that file in name order, those of at most 50 GMACs
   per image (so that 40 cells fit a ten-minute run), every (count / 20)-th. The file records the commit,
   the time and the calibration's provenance, and is committed before the measurement exists.
2. ``--measure`` (CUDA only) times the same 40 cells with ``cnnprofile bench``'s harness (the same step, CUDA
   events, the median latency), appending each result to the JSONL file as it is measured.
3. ``--score`` compares a measured file with the predictions registered for the measured card's key: median
   |error|, share within 25%, rank correlation, per batch and in all, and the worst cells; ``--out`` keeps them.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
FILE_4090 = os.path.join(ROOT, "benchmarks", "data", "timm-benchmark-infer-amp-nchw-pt291-cu128-4090.csv")
PREREGISTERED = os.path.join(ROOT, "reports", "predict", "gpu-preregistered.json")
BATCHES = (8, 256)
COUNT, MAX_GMACS = 20, 50.0
KEYS = ("h100-sxm", "h100-pcie", "h100-nvl", "h200-sxm", "h200-nvl")


def chosen_models(path: str = FILE_4090) -> list:
    """The rule: distinct names of the 4090 file, sorted, at most MAX_GMACS at the file's size, every n-th."""
    with open(path) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    gmacs: dict = {}
    for r in rows:
        gmacs[r["model"]] = max(gmacs.get(r["model"], 0.0), float(r["infer_gmacs"]))
    names = sorted(n for n, g in gmacs.items() if g <= MAX_GMACS and not n.startswith("test_"))
    return [names[i * len(names) // COUNT] for i in range(COUNT)]


def _step():
    from cnnprofile.predict.api import parse_step

    return parse_step("float32", amp="fp16")


def preregister(out: str) -> dict:
    from cnnprofile import __version__
    from cnnprofile.devices import device_by_key
    from cnnprofile.predict.api import calibration_for, predict_arrays
    from cnnprofile.predict.features import model_arrays

    step, models = _step(), chosen_models()
    predictions = {key: {} for key in KEYS}
    provenance = {}
    for name in models:
        arrays = model_arrays(f"timm:{name}", batch=1)
        for key in KEYS:
            cal, where = calibration_for(key)
            provenance[key] = where
            for batch in BATCHES:
                p = predict_arrays(arrays.at(batch), device_by_key(key), key, step, cal, where)
                predictions[key][f"{name}@{batch}"] = round(p.seconds * 1e3, 4)
        print(f"{name}: " + ", ".join(f"{b}: {predictions['h200-sxm'][f'{name}@{b}']} ms" for b in BATCHES),
              flush=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    report = dict(
        what="predicted ms of one forward pass (timm model, native input, fp16 autocast over float32 weights, NCHW, "
             "eager) per device key, registered before any of these cells was measured on these devices",
        rule=f"distinct model names of {os.path.relpath(FILE_4090, ROOT)} in name order, at most {MAX_GMACS:g} GMACs "
             f"per image, every (count / {COUNT})-th", models=models, batches=list(BATCHES),
        step=step.label, calibration=provenance, commit=commit, tool=__version__,
        created=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), predictions=predictions)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    return report


def measure(out: str, prereg: dict, min_time: float, device: str = "cuda") -> None:
    """Time the registered cells with bench's harness on ``device`` (the CPU only to check this path without
    a GPU: its rows are scored against no registration)."""
    import torch

    from cnnprofile.bench.backends import select_backend
    from cnnprofile.bench.runner import BenchConfig, run_sweep
    from cnnprofile.sources import resolve_model

    if device == "cuda" and not torch.cuda.is_available():
        print("no CUDA GPU: --measure needs one", file=sys.stderr)
        raise SystemExit(2)
    import timm

    # an older timm on the GPU's machine may lack some registered models: they are named and left out (scored
    # as missing) rather than stopping the one run
    known = set(timm.list_models())
    missing = [name for name in prereg["models"] if name not in known]
    if missing:
        print(f"timm {timm.__version__} lacks {len(missing)} registered models, left out: {', '.join(missing)}",
              flush=True)
    cfg = BenchConfig(batch_sizes=tuple(prereg["batches"]), dtype="float16", autocast=True, min_time_s=min_time)
    sources = [resolve_model(f"timm:{name}") for name in prereg["models"] if name in known]
    run_sweep(sources, cfg, select_backend(device), out,
              on_result=lambda r: print(f"{r.model} b{r.batch_size}: {r.status} "
                                        f"{r.latency_ms.median if r.latency_ms else '-'} ms", flush=True))


def score(measured_path: str, prereg: dict) -> dict:
    """Errors of the registered predictions against a measured file, for the measured card's key."""
    import numpy as np
    from scipy.stats import spearmanr

    from cnnprofile.devices import find_device
    from cnnprofile.predict.measurements import read_results

    rows = read_results(measured_path)
    card = find_device(rows[0].device)
    if card is None or card.key not in prereg["predictions"]:
        known = ", ".join(prereg["predictions"])
        raise SystemExit(f"{rows[0].device}: no predictions registered for this card ({known})")
    registered = prereg["predictions"][card.key]
    cells = []
    for m in rows:
        key = f"{m.model.split(':')[-1]}@{m.batch}"
        if key in registered:
            predicted = registered[key] / 1e3
            cells.append(dict(cell=key, batch=m.batch, measured_ms=round(m.seconds * 1e3, 4),
                              predicted_ms=registered[key], error=predicted / m.seconds - 1))

    def summary(sel):
        if not sel:
            return None
        err = np.array([c["error"] for c in sel])
        rank = spearmanr([c["predicted_ms"] for c in sel], [c["measured_ms"] for c in sel])[0] if len(sel) > 2 else None
        return dict(cells=len(sel), median_abs_error=float(np.median(np.abs(err))),
                    median_error=float(np.median(err)), within_25=float(np.mean(np.abs(err) <= 0.25)),
                    rank_correlation=None if rank is None else float(rank))
    result = dict(device=rows[0].device, key=card.key, registered=prereg["created"], commit=prereg["commit"],
                  all=summary(cells), **{f"batch_{b}": summary([c for c in cells if c["batch"] == b])
                                         for b in prereg["batches"]},
                  missing=sorted(set(registered) - {c["cell"] for c in cells}),
                  worst=sorted(cells, key=lambda c: -abs(c["error"]))[:8], cells=cells)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preregister", metavar="JSON", help="predict and write the registered predictions here")
    ap.add_argument("--measure", metavar="JSONL", help="time the registered cells on this machine's GPU")
    ap.add_argument("--score", metavar="JSONL", help="score a measured file against the registered predictions")
    ap.add_argument("--registered", default=PREREGISTERED, help="the registered predictions (default: %(default)s)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per latency phase (default: %(default)s)")
    ap.add_argument("--out", default=None, help="with --score: write the scores here")
    args = ap.parse_args(argv)
    if args.preregister:
        preregister(args.preregister)
        return 0
    with open(args.registered) as f:
        prereg = json.load(f)
    if args.measure:
        measure(args.measure, prereg, args.min_time)
    if args.score or args.measure:
        result = score(args.score or args.measure, prereg)
        print(json.dumps({k: v for k, v in result.items() if k != "cells"}, indent=1))
        if args.out:
            with open(args.out, "w") as f:
                json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
