"""Predicted peak (cnnprofile.memory, as the bench now computes it) against the peak measured in bench result files.

    python benchmarks/bench_vs_prediction.py reports/bench/20261128T061227Z-cuda-gpu-check.jsonl

Prints one markdown row per timed eager cell: the figure the file recorded (older files: activations written
+ weights), today's predicted peak for the cell's device, dtype/autocast, step and batch, and the measured peak.
"""
import sys

from cnnprofile.bench.predict import memory_options
from cnnprofile.bench.results import read_results
from cnnprofile.analyses.memory import Predictor


def main(paths) -> None:
    cells = [r for r in read_results(paths) if r.ok and not r.compile and not r.cuda_graphs and r.peak_memory_bytes]
    predictors: dict = {}
    print("| model | dtype | step | batch | recorded prediction (MB) | predicted peak (MB) | measured (MB) "
          "| predicted / measured |")
    print("|---|---|---|--:|--:|--:|--:|--:|")
    for r in cells:
        key = (r.model, r.device, r.dtype, r.autocast, r.train, r.optimizer)
        if key not in predictors:
            predictors[key] = Predictor(r.model, **memory_options(r.device, r.dtype, r.autocast, r.train, r.optimizer))
        peak = predictors[key].at(r.batch_size).peak_bytes
        step = f"train {r.optimizer}" if r.train else "inference"
        recorded = f"{r.predicted_memory_bytes / 1e6:.1f}" if r.predicted_memory_bytes else "-"
        print(f"| {r.model} | {r.dtype} | {step} | {r.batch_size} | {recorded} | {peak / 1e6:.1f} | "
              f"{r.peak_memory_bytes / 1e6:.1f} | {peak / r.peak_memory_bytes:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["reports/bench"])
