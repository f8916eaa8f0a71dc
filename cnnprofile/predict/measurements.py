"""Measured latencies a calibration is fitted on and a prediction is scored against: timm's published benchmark
CSVs and our own ``bench`` JSONL files, read into one record.

What timm's ``benchmark.py`` measured (read from its source): ``model.eval()`` under ``torch.inference_mode()``,
eager (files without ``-dynamo`` in their name), ``torch.autocast`` in float16 for ``amp`` files with float32
weights and input, ``cudnn.benchmark = True`` and TF32 allowed for matmuls, 10 warm-up steps, then 50 timed steps;
``infer_step_time`` is the mean milliseconds of one synchronized forward pass of ``infer_batch_size`` images,
the batch having been decayed after an out-of-memory error. ``nchw`` files keep the default memory format.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Step:
    """The precision a forward pass ran in: what sets its element size, its matrix units and its casts."""

    dtype: str = "float32"  # of the weights and the input
    amp: str | None = None  # autocast dtype ("float16", "bfloat16"), or None
    tf32_conv: bool = True  # cuDNN may use TF32 for float32 convolutions (PyTorch's default)
    tf32_matmul: bool = False  # cuBLAS may use TF32 for float32 matmuls (PyTorch's default: no)

    @property
    def label(self) -> str:
        if self.amp:
            return f"amp-{_SHORT[self.amp]}"
        if self.dtype != "float32":
            return _SHORT[self.dtype]
        return "fp32" + ("+tf32" if self.tf32_conv or self.tf32_matmul else "")

    @property
    def element_size(self) -> int:
        return 2 if self.amp or self.dtype in ("float16", "bfloat16") else 4

    def matrix_precision(self, conv: bool) -> str:
        """The device peak's precision for a matrix kernel (a convolution when ``conv``)."""
        low = self.amp or (self.dtype if self.dtype != "float32" else None)
        if low:
            return _SHORT[low]
        return "tf32" if (self.tf32_conv if conv else self.tf32_matmul) else "fp32"


_SHORT = {"float16": "fp16", "bfloat16": "bf16", "float32": "fp32"}
TIMM_AMP = Step("float32", "float16", tf32_conv=True, tf32_matmul=True)


@dataclass(frozen=True)
class Measurement:
    model: str  # the spec it is profiled by ("timm:resnet50", "resnet50")
    architecture: str  # the name families are taken from
    input_shape: tuple  # one input, without the batch
    batch: int
    seconds: float  # one forward pass of the batch
    step: Step
    device: str  # the device's name as measured ("NVIDIA GeForce RTX 4090", or a file's tag)
    source: str  # file and row


def _float(text: str) -> float:
    return float(str(text).replace(",", ""))


def _timm_device(path: str) -> str:
    name = os.path.basename(path).lower()
    for tag, device in (("5090", "rtx-5090"), ("4090", "rtx-4090"), ("3090", "rtx-3090"),
                        ("pro6000maxq", "rtx-pro-6000-blackwell-max-q")):
        if tag in name:
            return device
    return ""


def timm_step(path: str) -> Step:
    name = os.path.basename(path).lower()
    if "dynamo" in name or "-cpu-" in name or "train" in name:
        raise InputError(f"{path}: only timm's eager GPU inference files are modelled (this one is "
                         f"{'compiled' if 'dynamo' in name else 'a CPU or training run'})")
    if "amp_bf16" in name:
        return Step("float32", "bfloat16", True, True)
    if "-amp-" in name:
        return TIMM_AMP
    if "-bf16-" in name:
        return Step("bfloat16", None, True, True)
    return Step("float32", None, True, True)


def timm_rows(path: str) -> tuple:
    """(columns, rows as dicts) of a timm results CSV; ``#`` lines (a copy's header of source and licence) skipped."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader([line for line in f if not line.startswith("#")])
        return list(reader.fieldnames or ()), list(reader)


def read_timm(path: str) -> list:
    step = timm_step(path)
    device = _timm_device(path)
    out = []
    columns, rows = timm_rows(path)
    if "infer_step_time" not in columns:
        raise InputError(f"{path}: not a timm inference benchmark file (no infer_step_time column)")
    for n, row in enumerate(rows, 2):
        try:
            size, ms, batch = int(row["infer_img_size"]), _float(row["infer_step_time"]), int(row["infer_batch_size"])
        except (KeyError, TypeError, ValueError):
            continue
        if ms <= 0 or batch <= 0:
            continue
        out.append(Measurement(f"timm:{row['model']}", row["model"], (3, size, size), batch, ms / 1000, step,
                               device, f"{os.path.basename(path)}:{n}"))
    return out


def read_bench(path: str) -> list:
    from ..bench.results import read_results as read_bench_results

    out = []
    for n, r in enumerate(read_bench_results(path), 1):
        if r.status != "ok" or r.latency_ms is None or r.compile or r.cuda_graphs or r.train:
            continue
        env = r.env or {}
        gpu = r.device != "cpu"  # TF32 is a GPU's: a CPU run is plain float32 whatever the flags say
        step = Step("float32" if r.autocast else r.dtype, r.dtype if r.autocast else None,
                    gpu and bool(env.get("tf32_cudnn", True)), gpu and bool(env.get("tf32_matmul", False)))
        shape = tuple(r.input_shape[1:]) if getattr(r, "input_shape", None) else ()
        out.append(Measurement(r.model, r.model.split(":")[-1], shape, r.batch_size, r.latency_ms.median / 1000,
                               step, "cpu" if r.device == "cpu" else r.device_name,
                               f"{os.path.basename(path)}:{n}"))
    return out


def read_results(path: str) -> list:
    """Measurements of a timm benchmark CSV or a ``bench`` JSONL file; one line naming the problem otherwise."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such results file")
    rows = read_bench(path) if re.search(r"\.jsonl?$", path) else read_timm(path)
    if not rows:
        raise InputError(f"{path}: no usable row (a completed, eager inference measurement)")
    return rows


__all__ = ["Measurement", "Step", "TIMM_AMP", "read_results", "timm_rows", "timm_step"]
