"""Present benchmark results as text, markdown, CSV or JSON. Nothing here measures or computes a figure.

"invalid" results (measured above the device's roofline) are shown by status only, never with their numbers.
"""
from __future__ import annotations

from typing import Sequence

from .formatting import human, human_bytes
from .tabular import Table, render_table, right_aligned
from ..bench.results import BenchResult

HEADERS = ("Model", "Batch", "Status", "Median ms", "p90 ms", "p99 ms", "IQR %", "Images/s", "Peak mem",
           "Predicted mem", "FLOPs/img", "TFLOP/s", "% of peak")
CSV_COLUMNS = ["model", "batch_size", "status", "noisy", "latency_median_ms", "latency_p90_ms", "latency_p99_ms",
               "latency_iqr_ms", "latency_n", "throughput_ips", "power_w", "energy_per_image_j", "peak_memory_bytes",
               "peak_memory_kind", "predicted_memory_bytes", "predicted_memory_kind", "flops_per_image",
               "macs_per_image", "train_flops_per_image", "params", "achieved_tflops", "peak_tflops", "pct_of_peak",
               "device", "device_name", "dtype", "autocast", "channels_last", "compile", "cuda_graphs", "train",
               "optimizer", "error", "prediction_error"]

MEMORY_KINDS = {"cuda_max_allocated": "torch.cuda.max_memory_allocated over the timed runs (weights, input, "
                                      "activations, workspaces)",
                "rss_delta": "peak resident set over the timed runs minus the resident set before the model "
                             "was built (approximate: includes allocator slack)"}
# What "Predicted mem" is, by BenchResult.predicted_memory_kind (None: files written before the memory predictor).
PREDICTION_KINDS = {"peak": "cnnprofile.memory's predicted peak of the timed step (weights, buffers, input, "
                            "activations and temporaries alive at the worst moment; for a training step also "
                            "gradients and optimizer state) for the device's allocator, dtype or autocast dtype and "
                            "batch; channels-last, torch.compile and CUDA graphs are not modelled",
                    None: "activations written in one forward pass + weights (files written before the peak "
                          "predictor: an upper bound on what is alive at once)"}


def _shown(r: BenchResult) -> bool:
    return r.status == "ok"


def _ms(v) -> str:
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def _cells(r: BenchResult) -> list:
    status = "ok (noisy)" if r.ok and r.noisy else r.status
    model = f"{r.model} (train, {r.optimizer or 'none'})" if r.train else r.model
    if not _shown(r):
        return [model, r.batch_size, status] + ["-"] * (len(HEADERS) - 3)
    lat = r.latency_ms
    return [model, r.batch_size, status, _ms(lat.median), _ms(lat.p90), _ms(lat.p99),
            f"{100 * lat.iqr / lat.median:.1f}", f"{r.throughput_ips:.4g}",
            human_bytes(r.peak_memory_bytes) if r.peak_memory_bytes is not None else "-",
            human_bytes(r.predicted_memory_bytes) if r.predicted_memory_bytes is not None else "-",
            human(r.flops_per_image) if r.flops_per_image is not None else "-",
            f"{r.achieved_tflops:.3g}" if r.achieved_tflops is not None else "-",
            f"{r.pct_of_peak:.1f}" if r.pct_of_peak is not None else "-"]


POWER_HEADERS = ("Power W", "Images/J")


def _has_power(results: Sequence[BenchResult]) -> bool:
    return any(r.power_w is not None for r in results if _shown(r))


def _power_cells(r: BenchResult) -> list:
    if not _shown(r):
        return ["-", "-"]
    return [f"{r.power_w:.0f}" if r.power_w is not None else "-",
            f"{1 / r.energy_per_image_j:.3g}" if r.energy_per_image_j else "-"]


def _step(r: BenchResult) -> str:
    return f"training step ({r.optimizer or 'none'})" if r.train else "inference"


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
    steps = ", ".join(dict.fromkeys(_step(x) for x in results))
    return [f"Benchmark on {r.device_name} ({r.device}), {steps}, {r.dtype}, {mode}; {versions}; {env.get('date')}"]


def _notes(results: Sequence[BenchResult]) -> list:
    timer = "CUDA events" if results[0].device == "cuda" else "the wall clock"
    kinds = dict.fromkeys(r.peak_memory_kind for r in results if r.peak_memory_kind)
    predicted = dict.fromkeys(r.predicted_memory_kind for r in results if r.predicted_memory_bytes is not None)
    train = any(r.train for r in results)
    step = ("one step of the batch (a forward pass; a training step: forward, loss, backward, optimizer step, "
            "zero_grad)") if train else "one forward pass of the batch"
    notes = [f"Latency: {step}, each iteration timed with {timer}; IQR % = interquartile "
             "range / median; 'noisy' = IQR over 10% of the median.",
             "Images/s: a separate synchronized wall-clock window over back-to-back iterations.",
             "FLOPs/img from the analyzer (FLOPs = 2 x MACs + other arithmetic, one forward pass); TFLOP/s = FLOPs "
             "of the timed step per image x images/s" + (" (a training step: forward + backward FLOPs from the "
                                                          "memory predictor, the optimizer's arithmetic left out)"
                                                          if train else "")
             + "; % of peak against the device's published dense peak for the precision (blank if unknown)."]
    notes += [f"Predicted mem: {PREDICTION_KINDS.get(k, k)}." for k in predicted]
    notes += [f"Peak mem: {MEMORY_KINDS.get(k, k)}." for k in kinds]
    if _has_power(results):
        notes.append("Power W: average board power over the throughput window; Images/J: images per joule over "
                     "the same window ('-' where the device reported no power).")
    notes += [f"{r.model} batch {r.batch_size}: {r.status}: {r.error}" for r in results if r.error]
    notes += [f"{r.model} batch {r.batch_size}: no memory prediction: {r.prediction_error}" for r in results
              if r.prediction_error]
    return notes


def _presented(r: BenchResult) -> dict:
    d = r.to_dict()
    if not _shown(r):  # keep what identifies the cell, drop numbers that must not be read as results
        for key in ("latency_ms", "throughput_ips", "power_w", "energy_per_image_j", "peak_memory_bytes",
                    "achieved_tflops", "pct_of_peak"):
            d[key] = None
    return d


def _flat(r: BenchResult) -> dict:
    d = _presented(r)
    lat = d.pop("latency_ms") or {}
    d.update({f"latency_{k}_ms": lat.get(k) for k in ("median", "p90", "p99", "iqr")}, latency_n=lat.get("n"))
    return d


def summary_table(results: Sequence[BenchResult]) -> Table:
    """Power columns appear only when some result carries a power reading (CUDA devices that report it)."""
    power = _has_power(results)
    headers = HEADERS + (POWER_HEADERS if power else ())
    rows = tuple(tuple(_cells(r) + (_power_cells(r) if power else [])) for r in results)
    return Table(headers=headers, rows=rows, align=right_aligned(len(headers), 3),
                 title=_header(results)[0] if results else "", notes=tuple(_notes(results)) if results else (),
                 records=tuple(_presented(r) for r in results), flat_records=tuple(_flat(r) for r in results),
                 columns=tuple(CSV_COLUMNS))


def render(results: Sequence[BenchResult], fmt: str) -> str:
    if not results and fmt in ("text", "markdown"):
        return "No results.\n"
    return render_table(summary_table(results), fmt)
