"""Peak dense (no structured sparsity) TFLOP/s and memory bandwidth of common GPUs, with the source of each figure.

The figures are the vendors' published boost-clock numbers; where a datasheet quotes "with sparsity" the
dense figure is half of it. A card sustaining less than its boost clock reaches less; a measurement
*above* the figure means the measurement is wrong, which the runner uses as a roofline check.

GeForce cards run FP16 and BF16 tensor math with FP32 accumulation at half the rate of FP16 accumulation.
PyTorch accumulates in FP32, so their fp16 and bf16 figures are the FP32-accumulate ones; the faster
FP16-accumulate figure is kept apart (``fp16_acc_tflops``) and no roof uses it. Workstation and datacenter
cards accumulate in FP32 at the full rate. A card is listed only with every figure a roof needs from a named
datasheet or whitepaper, and a variant its name does not tell apart (a laptop part, a "D", "Ti" or "SUPER"
model) is not matched at all: no figure beats a wrong one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

PRECISIONS = ("fp32", "tf32", "fp16", "bf16")


@dataclass(frozen=True)
class DevicePeak:
    name: str
    pattern: str  # regex searched in the lower-cased device name that torch reports
    tflops: dict  # precision -> peak dense TFLOP/s; a missing precision has no tensor-core peak
    source: str
    bandwidth_gbs: float | None = None  # peak memory bandwidth, GB/s (10^9 bytes per second)
    bandwidth_source: str = ""
    # GeForce only: FP16 tensor TFLOP/s with FP16 accumulate (twice tflops["fp16"]), for reference: PyTorch
    # accumulates in FP32, so no run of ours reaches it and no roof uses it.
    fp16_acc_tflops: float | None = None
    memory_gb: float | None = None  # device memory, GB as the datasheet states it (None: sold in several sizes)

    @property
    def key(self) -> str:
        """The name a user types: ``--device-peak h100-sxm``."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


_H100_SXM = "NVIDIA H100 Tensor Core GPU datasheet (SXM5 column; TF32/BF16/FP16 halved from 'with sparsity')"
_H200 = "NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column; TF32/BF16/FP16 halved from 'with sparsity')"
_A100 = {"fp32": 19.5, "tf32": 156.0, "fp16": 312.0, "bf16": 312.0}
_A100_SOURCE = "NVIDIA A100 Tensor Core GPU datasheet (dense figures; same for every A100 variant)"
_ADA = "NVIDIA Ada GPU architecture whitepaper v2.1, appendix table (FP16 with FP32 accumulate, dense)"
_GA102 = "NVIDIA Ampere GA102 GPU architecture whitepaper v2.0"
_RTX_BLACKWELL_DOC = "NVIDIA RTX Blackwell GPU architecture whitepaper, appendix table"
_RTX_BLACKWELL = f"{_RTX_BLACKWELL_DOC} (FP16 with FP32 accumulate, dense)"
# The "Individual Blackwell GPU Specifications" rows of NVIDIA's Blackwell datasheet (GB200 NVL72 and HGX
# B200 columns), whose Tensor Core figures are all quoted with sparsity.
_BLACKWELL = "NVIDIA Blackwell datasheet, individual GPU specifications ({} column; TF32/BF16/FP16 halved from " \
             "'with sparsity')"
_GH200 = {"fp32": 67.0, "tf32": 494.0, "fp16": 990.0, "bf16": 990.0}
_GH200_SOURCE = "NVIDIA GH200 Grace Hopper Superchip datasheet (GPU figures, dense; both memory variants)"


def _geforce(fp32: float, fp16_fp32_acc: float, fp16_acc: float) -> dict:
    """A GeForce card's peaks: TF32 tensor math runs at the FP32 rate, BF16 like FP16 with FP32 accumulate."""
    return {"tflops": {"fp32": fp32, "tf32": fp32, "fp16": fp16_fp32_acc, "bf16": fp16_fp32_acc},
            "fp16_acc_tflops": fp16_acc}


# Order matters: the first pattern that matches wins, so more specific names come first. GeForce patterns
# end at the end of the name, so that a "Ti", "SUPER", "D" or laptop part never takes a desktop card's figures.
PEAKS = (
    # Blackwell datacenter: per GPU (a GB200 or GB300 superchip holds two, beside a Grace CPU).
    DevicePeak("GB300", r"\bgb300\b", {"fp32": 80.0, "tf32": 1250.0, "fp16": 2500.0, "bf16": 2500.0},
               "NVIDIA GB300 NVL72 datasheet, per-GPU figures (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=8000.0,
               bandwidth_source="NVIDIA GB300 NVL72 datasheet (576 TB/s over 72 GPUs: 8 TB/s each)"),
    DevicePeak("GB200", r"\bgb200\b", {"fp32": 80.0, "tf32": 1250.0, "fp16": 2500.0, "bf16": 2500.0},
               _BLACKWELL.format("GB200 NVL72"), bandwidth_gbs=8000.0,
               bandwidth_source="NVIDIA Blackwell datasheet (GB200 NVL72 column: 8 TB/s per GPU)"),
    DevicePeak("B200", r"\bb200\b", {"fp32": 75.0, "tf32": 1100.0, "fp16": 2250.0, "bf16": 2250.0},
               _BLACKWELL.format("HGX B200"), bandwidth_gbs=7700.0,
               bandwidth_source="NVIDIA Blackwell datasheet (HGX B200 column: 7.7 TB/s per GPU)"),
    # Hopper. "gh200" contains "h200": the Grace Hopper entries come first, the H200 ones match a whole word.
    DevicePeak("GH200 144GB HBM3e", r"gh200.*(144g|hbm3e)", _GH200, _GH200_SOURCE, 4900.0,
               "NVIDIA GH200 datasheet (144GB HBM3e: 4.9 TB/s)"),
    DevicePeak("GH200 96GB HBM3", r"gh200 480gb|gh200.*96gb", _GH200, _GH200_SOURCE, 4000.0,
               "NVIDIA GH200 datasheet (96GB HBM3: 4 TB/s)"),
    DevicePeak("H200 NVL", r"\bh200.*nvl", {"fp32": 60.0, "tf32": 417.5, "fp16": 835.5, "bf16": 835.5},
               "NVIDIA H200 datasheet (H200 NVL column; TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=4800.0, bandwidth_source="NVIDIA H200 datasheet (H200 NVL column: 4.8 TB/s)"),
    DevicePeak("H200 SXM", r"\bh200\b", {"fp32": 67.0, "tf32": 494.5, "fp16": 989.5, "bf16": 989.5}, _H200,
               bandwidth_gbs=4800.0, bandwidth_source="NVIDIA H200 datasheet (H200 SXM column: 4.8 TB/s)"),
    DevicePeak("H100 NVL", r"h100.*nvl", {"fp32": 60.0, "tf32": 417.5, "fp16": 835.5, "bf16": 835.5},
               "NVIDIA H100 datasheet (H100 NVL column; TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=3900.0, bandwidth_source="NVIDIA H100 datasheet (H100 NVL column: 3.9 TB/s)"),
    DevicePeak("H100 PCIe", r"h100.*pcie", {"fp32": 51.0, "tf32": 378.0, "fp16": 756.5, "bf16": 756.5},
               "NVIDIA H100 datasheet (PCIe column; TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=2000.0, bandwidth_source="NVIDIA H100 datasheet (PCIe column: 2 TB/s)"),
    DevicePeak("H100 SXM", r"h100", {"fp32": 67.0, "tf32": 494.5, "fp16": 989.5, "bf16": 989.5}, _H100_SXM,
               bandwidth_gbs=3350.0, bandwidth_source="NVIDIA H100 datasheet (SXM column: 3.35 TB/s)"),
    # Ampere datacenter and workstation.
    DevicePeak("A100 80GB PCIe", r"a100.*80gb.*pcie|a100.*pcie.*80gb", _A100, _A100_SOURCE, 1935.0,
               "NVIDIA A100 datasheet (80GB PCIe column: 1,935 GB/s)"),
    DevicePeak("A100 80GB SXM", r"a100.*80gb", _A100, _A100_SOURCE, 2039.0,
               "NVIDIA A100 datasheet (80GB SXM column: 2,039 GB/s)"),
    DevicePeak("A100 40GB", r"a100", _A100, _A100_SOURCE, 1555.0,
               "NVIDIA A100 datasheet (40GB PCIe and SXM columns: 1,555 GB/s)"),
    DevicePeak("A40", r"\ba40\b", {"fp32": 37.4, "tf32": 74.8, "fp16": 149.7, "bf16": 149.7},
               "NVIDIA A40 datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=696.0, bandwidth_source="NVIDIA A40 datasheet (696 GB/s)"),
    DevicePeak("A30", r"\ba30\b", {"fp32": 10.3, "tf32": 82.0, "fp16": 165.0, "bf16": 165.0},
               "NVIDIA A30 Tensor Core GPU datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=933.0, bandwidth_source="NVIDIA A30 datasheet (933 GB/s)"),
    DevicePeak("A10", r"\ba10\b", {"fp32": 31.2, "tf32": 62.5, "fp16": 125.0, "bf16": 125.0},
               "NVIDIA A10 Tensor Core GPU datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=600.0, bandwidth_source="NVIDIA A10 datasheet (600 GB/s)"),
    DevicePeak("RTX A6000", r"rtx a6000", {"fp32": 38.7, "tf32": 77.4, "fp16": 154.8, "bf16": 154.8},
               f"{_GA102}, RTX A6000 tables (FP16 with FP32 accumulate at the full rate, dense)",
               bandwidth_gbs=768.0, bandwidth_source=f"{_GA102}, RTX A6000 tables (768 GB/s)"),
    # Ada datacenter and workstation.
    DevicePeak("L40S", r"l40s", {"fp32": 91.6, "tf32": 183.0, "fp16": 362.0, "bf16": 362.0},
               "NVIDIA L40S datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=864.0, bandwidth_source="NVIDIA L40S datasheet (864 GB/s)"),
    DevicePeak("L40", r"\bl40\b", {"fp32": 90.5, "tf32": 90.5, "fp16": 181.05, "bf16": 181.05},
               "NVIDIA L40 datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=864.0, bandwidth_source="NVIDIA L40 datasheet (864 GB/s)"),
    DevicePeak("L4", r"\bl4\b", {"fp32": 30.3, "tf32": 60.0, "fp16": 121.0, "bf16": 121.0},
               "NVIDIA L4 Tensor Core GPU datasheet (TF32/BF16/FP16 halved from 'with sparsity')",
               bandwidth_gbs=300.0, bandwidth_source="NVIDIA L4 datasheet (300 GB/s)"),
    DevicePeak("RTX 6000 Ada", r"rtx 6000 ada", {"fp32": 91.1, "tf32": 182.1, "fp16": 364.2, "bf16": 364.2},
               "NVIDIA Ada GPU architecture whitepaper v2.1, appendix table (RTX 6000 Ada column: FP16 with FP32 "
               "accumulate at the full rate, dense)", bandwidth_gbs=960.0,
               bandwidth_source="NVIDIA Ada GPU architecture whitepaper v2.1, appendix table (960 GB/s)"),
    # Volta and Turing.
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
    # GeForce.
    DevicePeak("RTX 5090", r"rtx 5090$", **_geforce(104.8, 209.5, 419.0), source=_RTX_BLACKWELL,
               bandwidth_gbs=1792.0, bandwidth_source=f"{_RTX_BLACKWELL_DOC} (1792 GB/s)"),
    DevicePeak("RTX 5080", r"rtx 5080$", **_geforce(56.3, 112.6, 225.1), source=_RTX_BLACKWELL,
               bandwidth_gbs=960.0, bandwidth_source=f"{_RTX_BLACKWELL_DOC} (960 GB/s)"),
    DevicePeak("RTX 5070 Ti", r"rtx 5070 ti$", **_geforce(43.9, 87.9, 175.8), source=_RTX_BLACKWELL,
               bandwidth_gbs=896.0, bandwidth_source=f"{_RTX_BLACKWELL_DOC} (896 GB/s)"),
    DevicePeak("RTX 4090", r"rtx 4090$", **_geforce(82.6, 165.2, 330.3), source=_ADA, bandwidth_gbs=1008.0,
               bandwidth_source="NVIDIA Ada GPU architecture whitepaper v2.1, appendix table (1008 GB/s)"),
    DevicePeak("RTX 4080", r"rtx 4080$", **_geforce(48.7, 97.5, 194.9), source=_ADA, bandwidth_gbs=716.8,
               bandwidth_source="NVIDIA Ada GPU architecture whitepaper v2.1, appendix table (716.8 GB/s)"),
    DevicePeak("RTX 4070 Ti", r"rtx 4070 ti$", **_geforce(40.1, 80.2, 160.4),
               source="NVIDIA Ada GPU architecture whitepaper, appendix table ('RTX 4080 12GB' column, the AD104 "
                      "configuration and clocks released as the RTX 4070 Ti; FP16 with FP32 accumulate, dense)",
               bandwidth_gbs=504.0, bandwidth_source="NVIDIA Ada GPU architecture whitepaper, appendix table "
                                                     "('RTX 4080 12GB' column: 504 GB/s)"),
    DevicePeak("RTX 3090", r"rtx 3090$", **_geforce(35.6, 71.0, 142.0),
               source=f"{_GA102}, appendix A (GeForce RTX 3090: FP16 with FP32 accumulate, dense)",
               bandwidth_gbs=936.0, bandwidth_source=f"{_GA102}, appendix A (GeForce RTX 3090: 936 GB/s)"),
    DevicePeak("RTX 3080", r"rtx 3080$", **_geforce(29.8, 59.5, 119.0),
               source=f"{_GA102}, GeForce RTX 3080 specifications (FP16 with FP32 accumulate, dense)",
               bandwidth_gbs=760.0, bandwidth_source=f"{_GA102}, GeForce RTX 3080 specifications (760 GB/s)"),
)


# Device memory from the same datasheets and whitepapers as the peaks (their memory-size row); cards sold with
# more than one size (V100 16/32 GB) have none, so that no batch is refused on a guess.
_MEMORY_GB = {
    "gb300": 288, "gb200": 186, "b200": 180, "gh200-144gb-hbm3e": 144, "gh200-96gb-hbm3": 96, "h200-nvl": 141,
    "h200-sxm": 141, "h100-nvl": 94, "h100-pcie": 80, "h100-sxm": 80, "a100-80gb-pcie": 80, "a100-80gb-sxm": 80,
    "a100-40gb": 40, "a40": 48, "a30": 24, "a10": 24, "rtx-a6000": 48, "l40s": 48, "l40": 48, "l4": 24,
    "rtx-6000-ada": 48, "v100s-pcie": 32, "t4": 16, "rtx-5090": 32, "rtx-5080": 16, "rtx-5070-ti": 16,
    "rtx-4090": 24, "rtx-4080": 16, "rtx-4070-ti": 12, "rtx-3090": 24, "rtx-3080": 10,
}
PEAKS = tuple(replace(p, memory_gb=_MEMORY_GB.get(p.key)) for p in PEAKS)

def find_device(device_name: str) -> DevicePeak | None:
    name = (device_name or "").lower().strip()
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


CPU_KEY = "cpu"
_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def shipped_calibration(key: str) -> Path | None:
    """The latency calibration that ships for device ``key`` (package data
    ``cnnprofile/data/calibrations/<key>.json``); None where none ships."""
    from importlib import resources

    if not _KEY.fullmatch(key or ""):  # a key is a file name, never a path out of the folder
        return None
    path = resources.files("cnnprofile").joinpath("data").joinpath("calibrations").joinpath(f"{key}.json")
    # An installed package is a folder on disk (setup.cfg ships no zip), so the resource is a real file.
    return Path(str(path)) if path.is_file() else None
