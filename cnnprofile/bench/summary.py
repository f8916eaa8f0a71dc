"""Present benchmark results as text, markdown, CSV or JSON. Nothing here measures or computes a figure.

"invalid" results (measured above the device's roofline) are shown by status only, never with their numbers.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Sequence

from ..formatting import _rows_table, human, human_bytes
from .results import BenchResult

HEADERS = ["Model", "Batch", "Status", "Median ms", "p90 ms", "p99 ms", "IQR %", "Images/s", "Peak mem",
           "Predicted mem", "FLOPs/img", "TFLOP/s", "% of peak"]
CSV_COLUMNS = ["model", "batch_size", "status", "noisy", "latency_median_ms", "latency_p90_ms", "latency_p99_ms",
               "latency_iqr_ms", "latency_n", "throughput_ips", "peak_memory_bytes", "peak_memory_kind",
               "predicted_memory_bytes", "flops_per_image", "macs_per_image", "params", "achieved_tflops",
               "peak_tflops", "pct_of_peak", "device", "device_name", "dtype", "autocast", "channels_last",
               "compile", "cuda_graphs", "error"]

MEMORY_KINDS = {"cuda_max_allocated": "torch.cuda.max_memory_allocated over the timed runs (weights, input, "
                                      "activations, workspaces)",
                "rss_delta": "peak resident set over the timed runs minus the resident set before the model "
                             "was built (approximate: includes allocator slack)"}


def _shown(r: BenchResult) -> bool:
    return r.status == "ok"


def _ms(v) -> str:
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def _cells(r: BenchResult) -> list:
    status = "ok (noisy)" if r.ok and r.noisy else r.status
    if not _shown(r):
        return [r.model, r.batch_size, status] + ["-"] * (len(HEADERS) - 3)
    lat = r.latency_ms
    return [r.model, r.batch_size, status, _ms(lat.median), _ms(lat.p90), _ms(lat.p99),
            f"{100 * lat.iqr / lat.median:.1f}", f"{r.throughput_ips:.4g}",
            human_bytes(r.peak_memory_bytes) if r.peak_memory_bytes is not None else "-",
            human_bytes(r.predicted_memory_bytes) if r.predicted_memory_bytes is not None else "-",
            human(r.flops_per_image) if r.flops_per_image is not None else "-",
            f"{r.achieved_tflops:.3g}" if r.achieved_tflops is not None else "-",
            f"{r.pct_of_peak:.1f}" if r.pct_of_peak is not None else "-"]


def _header(results: Sequence[BenchResult]) -> list:
    r = results[0]
    env = r.env
    mode = ", ".join(m for m, on in (("autocast", r.autocast), ("channels-last", r.channels_last),
                                     ("torch.compile", r.compile), ("CUDA graphs", r.cuda_graphs)) if on) or "eager"
    versions = f"torch {env.get('torch')}"
    if r.device == "cuda":
        versions += f", CUDA {env.get('cuda')}, cuDNN {env.get('cudnn')}, driver {env.get('driver')}, " \
                    f"TF32 matmul={env.get('tf32_matmul')} cudnn={env.get('tf32_cudnn')}"
    else:
        versions += f", {env.get('cpu_threads')} threads"
    return [f"Benchmark on {r.device_name} ({r.device}), {r.dtype}, {mode}; {versions}; {env.get('date')}"]


def _notes(results: Sequence[BenchResult]) -> list:
    timer = "CUDA events" if results[0].device == "cuda" else "the wall clock"
    kinds = dict.fromkeys(r.peak_memory_kind for r in results if r.peak_memory_kind)
    notes = [f"Latency: one forward pass of the batch, each iteration timed with {timer}; IQR % = interquartile "
             "range / median; 'noisy' = IQR over 10% of the median.",
             "Images/s: a separate synchronized wall-clock window over back-to-back iterations.",
             "FLOPs/img from the analyzer (FLOPs = 2 x MACs + other arithmetic); TFLOP/s = FLOPs/img x images/s; "
             "% of peak against the device's published dense peak for the precision (blank if unknown).",
             "Predicted mem = the analyzer's activations written in one pass + weights (an upper bound on what "
             "is alive at once)."]
    notes += [f"Peak mem: {MEMORY_KINDS.get(k, k)}." for k in kinds]
    notes += [f"{r.model} batch {r.batch_size}: {r.status}: {r.error}" for r in results if r.error]
    return notes


def to_text(results: Sequence[BenchResult], markdown: bool = False) -> str:
    if not results:
        return "No results.\n"
    table = _rows_table([_cells(r) for r in results], HEADERS, markdown, right_from=3)
    notes = _notes(results)
    if markdown:
        return "\n".join([f"### {_header(results)[0]}", "", table, ""] + [f"- {n}" for n in notes]) + "\n"
    return "\n".join(_header(results) + ["", table, ""] + notes) + "\n"


def _presented(r: BenchResult) -> dict:
    d = r.to_dict()
    if not _shown(r):  # keep what identifies the cell, drop numbers that must not be read as results
        for key in ("latency_ms", "throughput_ips", "peak_memory_bytes", "achieved_tflops", "pct_of_peak"):
            d[key] = None
    return d


def to_json(results: Sequence[BenchResult]) -> str:
    return json.dumps([_presented(r) for r in results], indent=2) + "\n"


def to_csv(results: Sequence[BenchResult]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in results:
        d = _presented(r)
        lat = d.pop("latency_ms") or {}
        d.update({f"latency_{k}_ms": lat.get(k) for k in ("median", "p90", "p99", "iqr")}, latency_n=lat.get("n"))
        w.writerow(d)
    return buf.getvalue()


def render(results: Sequence[BenchResult], fmt: str) -> str:
    if fmt == "json":
        return to_json(results)
    if fmt == "csv":
        return to_csv(results)
    return to_text(results, markdown=fmt == "markdown")
