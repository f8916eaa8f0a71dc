"""The time model: a calibrated roofline per kernel, summed over the kernels an eager forward pass launches.

For each kernel of class c with F FLOPs and M bytes moved:

    compute = F / (peak_c x e_c x R / (R + r0) x F / (F + f0))
    memory  = M / (bandwidth x m_c x M / (M + b0))
    time    = max(compute, memory) + launch

``peak_c`` is the device's datasheet peak for the step's precision on the units the class uses (tensor cores for
convolutions, matmuls and attention; the FP32 units for the rest), ``e_c`` and ``m_c`` are the fractions of the
two roofs that class reaches (fitted), ``R`` the inner-product length of a matrix kernel (short reductions
keep the tensor cores waiting on operands: the stem's 3-channel convolution), and ``f0``/``b0`` the work below
which a kernel cannot fill the device (small kernels at small batches). ``launch`` is the fixed cost of one
eager kernel. Every term is per kernel, so the prediction explains itself layer by layer: which kernels
dominate and which roof binds each.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analyses.kernels import CLASSES, MATRIX
from ..devices import DevicePeak
from .features import KernelArrays
from .measurements import Step

_CONVS = ("conv", "conv1x1", "gconv")
_MATRIX_IDX = np.array([c in MATRIX and c != "dwconv" for c in CLASSES])
_CONV_IDX = np.array([c in _CONVS for c in CLASSES])
CAST = CLASSES.index("cast")



@dataclass(frozen=True)
class Times:
    """Per kernel seconds (numpy arrays) and the total, for one model at one batch on one device."""

    compute: np.ndarray
    memory: np.ndarray
    total: np.ndarray  # max(compute, memory) + launch, plus its share of the autocast weight casts
    launch: float
    seconds: float  # sum of ``total``
    cast_seconds: float


def peaks(device: DevicePeak, step: Step) -> np.ndarray:
    """FLOP/s of each class's units for ``step`` on ``device`` (datasheet figures)."""
    fp32 = device.tflops.get("fp32") or max(device.tflops.values())
    out = np.full(len(CLASSES), fp32 * 1e12)
    for i, c in enumerate(CLASSES):
        if _MATRIX_IDX[i]:
            precision = step.matrix_precision(conv=c in _CONVS)
            if precision == "tf32" and "tf32" not in device.tflops:
                precision = "fp32"
            out[i] = (device.tflops.get(precision) or fp32) * 1e12
    return out


def price(cls: np.ndarray, flops: np.ndarray, moved: np.ndarray, reduction: np.ndarray, peak: np.ndarray,
          bandwidth, params: dict) -> tuple:
    """(compute, memory) seconds of each kernel: the two roofs, each at its fitted fraction and fill."""
    compute_eff = np.array([params["compute"].get(c, 1.0) for c in CLASSES])[cls]
    memory_eff = np.array([params["memory"].get(c, 1.0) for c in CLASSES])[cls]
    r0, f0, b0 = params["reduction_half"], params["flops_half"], params["bytes_half"]
    short = np.where(reduction > 0, reduction / np.maximum(reduction + r0, 1e-30), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        compute = np.where(flops > 0, flops * (flops + f0) / (flops * peak * compute_eff * short), 0.0)
        memory = np.where(moved > 0, moved * (moved + b0) / (moved * bandwidth * memory_eff), 0.0)
    return compute, memory


def cast_seconds(param_tensors, param_bytes, bandwidth, params: dict):
    """Autocast's cast of every float32 parameter to the low dtype, once per forward pass: one kernel per
    tensor, reading 4 bytes and writing 2 per element."""
    return param_tensors * params["launch_s"] + param_bytes * 1.5 / (bandwidth * params["memory"]["cast"])


def kernel_times(arrays: KernelArrays, params: dict, device: DevicePeak, step: Step) -> Times:
    """Predicted seconds of every kernel of ``arrays`` (at its batch) for ``step`` on ``device``."""
    cls = arrays.cls.astype(np.int64)
    scale = step.element_size / 4
    bandwidth = device.bandwidth_gbs * 1e9
    compute, memory = price(cls, arrays.flops, (arrays.act_bytes + arrays.param_bytes) * scale, arrays.reduction,
                            peaks(device, step)[cls], bandwidth, params)
    total = np.maximum(compute, memory) + params["launch_s"]
    cast = float(cast_seconds(arrays.param_tensors, arrays.param_total_bytes, bandwidth, params)) if step.amp else 0.0
    read = arrays.param_bytes.sum()
    if cast and read:  # autocast casts a weight where a layer first reads it: charged to the kernels reading weights
        total = total + cast * arrays.param_bytes / read
    return Times(compute, memory, total, params["launch_s"], float(total.sum()) + (0.0 if read else cast), cast)


def default_params() -> dict:
    """Where a fit starts: half of each roof; 5 microseconds a launch, CUDA's launch latency plus PyTorch's eager
    dispatch on a current host (an assumption that large-batch measurements cannot test; a calibration
    from small-batch runs of the host fits its own)."""
    return {"compute": {c: 0.5 for c in CLASSES if c in MATRIX or c == "dwconv"},
            "memory": {c: 0.7 for c in CLASSES},
            "launch_s": 5e-6, "reduction_half": 16.0, "flops_half": 1e7, "bytes_half": 1e5}


__all__ = ["Times", "cast_seconds", "default_params", "kernel_times", "peaks", "price"]
