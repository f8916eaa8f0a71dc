"""Peak dense (no structured sparsity) TFLOP/s of common GPUs, per precision, with the source of each figure.

The figures are the vendors' published boost-clock numbers; where a datasheet quotes "with sparsity" the
dense figure is half of it. A card sustaining less than its boost clock reaches less; a measurement
*above* the figure means the measurement is wrong, which the runner uses as a roofline check.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

PRECISIONS = ("fp32", "tf32", "fp16", "bf16")


@dataclass(frozen=True)
class DevicePeak:
    name: str
    pattern: str  # regex searched in the lower-cased device name that torch reports
    tflops: dict  # precision -> peak dense TFLOP/s; a missing precision has no tensor-core peak
    source: str


_H100_SXM = "NVIDIA H100 Tensor Core GPU datasheet (SXM5 column; TF32/BF16/FP16 halved from 'with sparsity')"
_H200 = "NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column; TF32/BF16/FP16 halved from 'with sparsity')"
_ADA = "NVIDIA Ada GPU architecture whitepaper v2.1, appendix table (FP16 with FP32 accumulate, dense)"

# Order matters: the first pattern that matches wins, so more specific names come first.
PEAKS = (
    DevicePeak("H200 NVL", r"h200.*nvl", {"fp32": 60.0, "tf32": 417.5, "fp16": 835.5, "bf16": 835.5},
               "NVIDIA H200 datasheet (H200 NVL column; TF32/BF16/FP16 halved from 'with sparsity')"),
    DevicePeak("H200 SXM", r"h200", {"fp32": 67.0, "tf32": 494.5, "fp16": 989.5, "bf16": 989.5}, _H200),
    DevicePeak("H100 NVL", r"h100.*nvl", {"fp32": 60.0, "tf32": 417.5, "fp16": 835.5, "bf16": 835.5},
               "NVIDIA H100 datasheet (H100 NVL column; TF32/BF16/FP16 halved from 'with sparsity')"),
    DevicePeak("H100 PCIe", r"h100.*pcie", {"fp32": 51.0, "tf32": 378.0, "fp16": 756.5, "bf16": 756.5},
               "NVIDIA H100 datasheet (PCIe column; TF32/BF16/FP16 halved from 'with sparsity')"),
    DevicePeak("H100 SXM", r"h100", {"fp32": 67.0, "tf32": 494.5, "fp16": 989.5, "bf16": 989.5}, _H100_SXM),
    DevicePeak("A100", r"a100", {"fp32": 19.5, "tf32": 156.0, "fp16": 312.0, "bf16": 312.0},
               "NVIDIA A100 Tensor Core GPU datasheet (dense figures; same for SXM4 and PCIe)"),
    DevicePeak("A10", r"\ba10\b", {"fp32": 31.2, "tf32": 62.5, "fp16": 125.0, "bf16": 125.0},
               "NVIDIA A10 Tensor Core GPU datasheet (TF32/BF16/FP16 halved from 'with sparsity')"),
    DevicePeak("L40S", r"l40s", {"fp32": 91.6, "tf32": 183.0, "fp16": 362.0, "bf16": 362.0},
               "NVIDIA L40S datasheet (TF32/BF16/FP16 halved from 'with sparsity')"),
    DevicePeak("L4", r"\bl4\b", {"fp32": 30.3, "tf32": 60.0, "fp16": 121.0, "bf16": 121.0},
               "NVIDIA L4 Tensor Core GPU datasheet (TF32/BF16/FP16 halved from 'with sparsity')"),
    DevicePeak("V100S PCIe", r"v100s", {"fp32": 16.4, "fp16": 130.0},
               "NVIDIA V100 datasheet (V100S PCIe column; no TF32 or BF16 tensor cores)"),
    DevicePeak("V100 PCIe", r"v100.*pcie", {"fp32": 14.0, "fp16": 112.0},
               "NVIDIA V100 datasheet (PCIe column; no TF32 or BF16 tensor cores)"),
    DevicePeak("V100 SXM2", r"v100", {"fp32": 15.7, "fp16": 125.0},
               "NVIDIA V100 datasheet (SXM2 column; no TF32 or BF16 tensor cores)"),
    DevicePeak("T4", r"\bt4\b", {"fp32": 8.1, "fp16": 65.0},
               "NVIDIA T4 datasheet (FP16 mixed precision; no TF32 or BF16 tensor cores)"),
    DevicePeak("RTX 4090", r"rtx 4090", {"fp32": 82.6, "tf32": 82.6, "fp16": 165.2, "bf16": 165.2}, _ADA),
    DevicePeak("RTX 3090", r"rtx 3090", {"fp32": 35.6, "tf32": 35.6, "fp16": 71.0, "bf16": 71.0},
               "NVIDIA Ampere GA102 GPU architecture whitepaper, appendix table (FP16 with FP32 accumulate, dense)"),
)


def find_device(device_name: str) -> Optional[DevicePeak]:
    name = (device_name or "").lower()
    for peak in PEAKS:
        if re.search(peak.pattern, name):
            return peak
    return None


def precision_for(dtype: str, tf32_allowed: bool) -> str:
    """The tensor-core precision a run uses: float32 runs on TF32 units when PyTorch allows TF32."""
    return {"float16": "fp16", "bfloat16": "bf16"}.get(dtype, "tf32" if tf32_allowed else "fp32")


def peak_tflops(device_name: str, precision: str) -> Optional[float]:
    """The peak dense TFLOP/s of ``device_name`` at ``precision``; None when the device is unknown.

    TF32 asked of a card without TF32 units means plain FP32 on it.
    """
    peak = find_device(device_name)
    if peak is None:
        return None
    if precision == "tf32" and "tf32" not in peak.tflops:
        precision = "fp32"
    return peak.tflops.get(precision)
