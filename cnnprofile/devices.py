"""Peak dense (no structured sparsity) TFLOP/s and memory bandwidth of common GPUs, with the source of each figure.

The figures are the vendors' published boost-clock numbers; where a datasheet quotes "with sparsity" the
dense figure is half of it. A card sustaining less than its boost clock reaches less; a measurement
*above* the figure means the measurement is wrong, which the runner uses as a roofline check.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PRECISIONS = ("fp32", "tf32", "fp16", "bf16")


@dataclass(frozen=True)
class DevicePeak:
    name: str
    pattern: str  # regex searched in the lower-cased device name that torch reports
    tflops: dict  # precision -> peak dense TFLOP/s; a missing precision has no tensor-core peak
    source: str
    bandwidth_gbs: float | None = None  # peak memory bandwidth, GB/s (10^9 bytes per second)
    bandwidth_source: str = ""

    @property
    def key(self) -> str:
        """The name a user types: ``--device-peak h100-sxm``."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


_H100_SXM = "NVIDIA H100 Tensor Core GPU datasheet (SXM5 column; TF32/BF16/FP16 halved from 'with sparsity')"
_H200 = "NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column; TF32/BF16/FP16 halved from 'with sparsity')"
_A100 = {"fp32": 19.5, "tf32": 156.0, "fp16": 312.0, "bf16": 312.0}
_A100_SOURCE = "NVIDIA A100 Tensor Core GPU datasheet (dense figures; same for every A100 variant)"
_ADA = "NVIDIA Ada GPU architecture whitepaper v2.1, appendix table (FP16 with FP32 accumulate, dense)"

# Order matters: the first pattern that matches wins, so more specific names come first.
PEAKS = (
    DevicePeak("H200 NVL", r"h200.*nvl", {"fp32": 60.0, "tf32": 417.5, "fp16": 835.5, "bf16": 835.5},
               "NVIDIA H200 datasheet (H200 NVL column; TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=4800.0, bandwidth_source="NVIDIA H200 datasheet (H200 NVL column: 4.8 TB/s)"),
    DevicePeak("H200 SXM", r"h200", {"fp32": 67.0, "tf32": 494.5, "fp16": 989.5, "bf16": 989.5}, _H200,
               bandwidth_gbs=4800.0, bandwidth_source="NVIDIA H200 datasheet (H200 SXM column: 4.8 TB/s)"),
    DevicePeak("H100 NVL", r"h100.*nvl", {"fp32": 60.0, "tf32": 417.5, "fp16": 835.5, "bf16": 835.5},
               "NVIDIA H100 datasheet (H100 NVL column; TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=3900.0, bandwidth_source="NVIDIA H100 datasheet (H100 NVL column: 3.9 TB/s)"),
    DevicePeak("H100 PCIe", r"h100.*pcie", {"fp32": 51.0, "tf32": 378.0, "fp16": 756.5, "bf16": 756.5},
               "NVIDIA H100 datasheet (PCIe column; TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=2000.0, bandwidth_source="NVIDIA H100 datasheet (PCIe column: 2 TB/s)"),
    DevicePeak("H100 SXM", r"h100", {"fp32": 67.0, "tf32": 494.5, "fp16": 989.5, "bf16": 989.5}, _H100_SXM,
               bandwidth_gbs=3350.0, bandwidth_source="NVIDIA H100 datasheet (SXM column: 3.35 TB/s)"),
    DevicePeak("A100 80GB PCIe", r"a100.*80gb.*pcie|a100.*pcie.*80gb", _A100, _A100_SOURCE, 1935.0,
               "NVIDIA A100 datasheet (80GB PCIe column: 1,935 GB/s)"),
    DevicePeak("A100 80GB SXM", r"a100.*80gb", _A100, _A100_SOURCE, 2039.0,
               "NVIDIA A100 datasheet (80GB SXM column: 2,039 GB/s)"),
    DevicePeak("A100 40GB", r"a100", _A100, _A100_SOURCE, 1555.0,
               "NVIDIA A100 datasheet (40GB PCIe and SXM columns: 1,555 GB/s)"),
    DevicePeak("A10", r"\ba10\b", {"fp32": 31.2, "tf32": 62.5, "fp16": 125.0, "bf16": 125.0},
               "NVIDIA A10 Tensor Core GPU datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=600.0, bandwidth_source="NVIDIA A10 datasheet (600 GB/s)"),
    DevicePeak("L40S", r"l40s", {"fp32": 91.6, "tf32": 183.0, "fp16": 362.0, "bf16": 362.0},
               "NVIDIA L40S datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=864.0, bandwidth_source="NVIDIA L40S datasheet (864 GB/s)"),
    DevicePeak("L4", r"\bl4\b", {"fp32": 30.3, "tf32": 60.0, "fp16": 121.0, "bf16": 121.0},
               "NVIDIA L4 Tensor Core GPU datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=300.0, bandwidth_source="NVIDIA L4 datasheet (300 GB/s)"),
    DevicePeak("V100S PCIe", r"v100s", {"fp32": 16.4, "fp16": 130.0},
               "NVIDIA V100 datasheet (V100S PCIe column; no TF32 or BF16 tensor cores)",
               bandwidth_gbs=1134.0, bandwidth_source="NVIDIA V100 datasheet (V100S PCIe column: 1134 GB/s)"),
    DevicePeak("V100 PCIe", r"v100.*pcie", {"fp32": 14.0, "fp16": 112.0},
               "NVIDIA V100 datasheet (PCIe column; no TF32 or BF16 tensor cores)",
               bandwidth_gbs=900.0, bandwidth_source="NVIDIA V100 datasheet (PCIe column: 900 GB/s)"),
    DevicePeak("V100 SXM2", r"v100", {"fp32": 15.7, "fp16": 125.0},
               "NVIDIA V100 datasheet (SXM2 column; no TF32 or BF16 tensor cores)",
               bandwidth_gbs=900.0, bandwidth_source="NVIDIA V100 datasheet (SXM2 column: 900 GB/s)"),
    DevicePeak("T4", r"\bt4\b", {"fp32": 8.1, "fp16": 65.0},
               "NVIDIA T4 datasheet (FP16 mixed precision; no TF32 or BF16 tensor cores)",
               bandwidth_gbs=320.0, bandwidth_source="NVIDIA T4 datasheet (320+ GB/s)"),
    DevicePeak("RTX 4090", r"rtx 4090", {"fp32": 82.6, "tf32": 82.6, "fp16": 165.2, "bf16": 165.2}, _ADA,
               bandwidth_gbs=1008.0,
               bandwidth_source="NVIDIA Ada GPU architecture whitepaper v2.1, appendix table (1008 GB/s)"),
    DevicePeak("RTX 3090", r"rtx 3090", {"fp32": 35.6, "tf32": 35.6, "fp16": 71.0, "bf16": 71.0},
               "NVIDIA Ampere GA102 GPU architecture whitepaper, appendix table (FP16 with FP32 accumulate, dense)",
               bandwidth_gbs=936.0,
               bandwidth_source="NVIDIA Ampere GA102 GPU architecture whitepaper, appendix table (936 GB/s)"),
)


def find_device(device_name: str) -> DevicePeak | None:
    name = (device_name or "").lower()
    for peak in PEAKS:
        if re.search(peak.pattern, name):
            return peak
    return None


def precision_for(dtype: str, tf32_allowed: bool) -> str:
    """The tensor-core precision a run uses: float32 runs on TF32 units when PyTorch allows TF32."""
    return {"float16": "fp16", "bfloat16": "bf16"}.get(dtype, "tf32" if tf32_allowed else "fp32")


def peak_tflops(device_name: str, precision: str) -> float | None:
    """The peak dense TFLOP/s of ``device_name`` at ``precision``; None when the device is unknown.

    TF32 asked of a card without TF32 units means plain FP32 on it.
    """
    peak = find_device(device_name)
    if peak is None:
        return None
    if precision == "tf32" and "tf32" not in peak.tflops:
        precision = "fp32"
    return peak.tflops.get(precision)


def device_by_key(key: str) -> DevicePeak:
    """The device named ``key`` (``h100-sxm``, ``a100-80gb-sxm``, ``cpu``); one line listing the known ones
    otherwise. ``cpu`` is ``cpu_upper_bound`` for this process's threads."""
    from .errors import InputError

    if key.lower() == "cpu":
        import torch

        return cpu_upper_bound(torch.get_num_threads())
    for peak in PEAKS:
        if peak.key == key.lower():
            return peak
    raise InputError(f"unknown device {key!r}; known: {', '.join(p.key for p in PEAKS)}, cpu")


# No x86 core shipping in 2025 exceeds these per cycle: two 512-bit FMA pipes (2 x 16 float32 lanes x 2
# FLOPs) and two 64-byte L1 loads, at a 6 GHz clock (above every server and desktop boost clock). They bound
# any CPU run from above without knowing the model of the CPU, so a roofline bound computed with them is a
# true lower bound on a CPU latency (a loose one).
CPU_GHZ = 6.0
CPU_FLOPS_PER_CYCLE = 64
CPU_BYTES_PER_CYCLE = 128


def cpu_upper_bound(threads: int) -> DevicePeak:
    tflops = threads * CPU_GHZ * CPU_FLOPS_PER_CYCLE / 1000
    return DevicePeak(f"CPU upper bound ({threads} threads)", r"$^", {p: tflops for p in PRECISIONS},
                      f"{CPU_FLOPS_PER_CYCLE} FLOP/cycle/thread at {CPU_GHZ} GHz (two 512-bit FMA pipes)",
                      threads * CPU_GHZ * CPU_BYTES_PER_CYCLE,
                      f"{CPU_BYTES_PER_CYCLE} B/cycle/thread at {CPU_GHZ} GHz (two 64-byte L1 loads per cycle)")
