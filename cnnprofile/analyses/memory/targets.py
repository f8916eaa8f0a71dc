"""Whose allocator and kernels a prediction models: ``cuda`` (the default question) or ``cpu`` (the oracle here).

Every number here is an assumption stated once, so a GPU check can validate or correct it.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Callable, Optional

from ...errors import InputError
from .cpu_conv import transient_bytes

MiB = 1 << 20


@dataclass(frozen=True)
class Target:
    name: str
    round_to: int  # the allocator's block granularity: every block is rounded up to a multiple of it
    foreach: bool  # optimizers take the multi-tensor path (temporaries the size of a whole state list)
    # Persistent library workspace allocated through the framework's allocator by the first matrix product on
    # each thread: the forward runs on the caller's thread, backward on autograd's own thread for the device.
    matmul_workspace_bytes: int
    # Transient workspace of a forward convolution with a kernel larger than 1x1, as a multiple of its output's
    # bytes: it exists only while the kernel runs.
    conv_workspace_ratio: float
    notes: tuple = ()
    # Buffers a kernel allocates through the framework's allocator and frees before it returns, per op and
    # kernel path: (func, args, out) -> bytes, a transient on top of the op's outputs (forward and backward).
    kernel_transients: Optional[Callable] = None

    def conv_workspace(self, weight_shape, out_nbytes: int) -> int:
        """Bytes of a forward convolution's transient library workspace (``conv_workspace_ratio``): 0 for a
        1x1 kernel, which needs none."""
        if not self.conv_workspace_ratio or prod(weight_shape[2:]) <= 1:
            return 0
        return int(self.conv_workspace_ratio * out_nbytes)


# The matrix products whose library keeps its persistent workspace (``Target.matmul_workspace_bytes``).
MATMUL_OPS = frozenset({"aten.mm", "aten.addmm", "aten.bmm", "aten.baddbmm"})


TARGETS = {
    "cuda": Target(
        name="cuda", round_to=512, foreach=True,
        # cuBLAS's workspace comes from PyTorch's caching allocator: CUBLAS_WORKSPACE_CONFIG's default
        # ":4096:8" on Hopper is 8 chunks of 4096 KiB = 32 MiB per handle, plus cuBLASLt's 1 MiB. Measured on an
        # H200 (torch 2.11, cuDNN 9.19): 33 MiB beyond weights, buffers and input after one inference pass.
        matmul_workspace_bytes=33 * MiB,
        # cuDNN's heuristics (benchmark off) picked algorithms whose workspace was 2.0x the output of VGG-16's
        # 3x3 convolutions (fp32 and bf16, batch 32 and 128) on that H200: an empirical estimate.
        conv_workspace_ratio=2.0,
        notes=("every block rounded up to 512 B (the caching allocator's granularity)",
               "optimizers take the foreach (multi-tensor) path",
               "cuBLAS + cuBLASLt workspace: 33 MiB per thread that runs a matrix product (forward; backward "
               "runs on autograd's device thread, a second one)",
               "cuDNN workspace: 2.0 x the output bytes of each forward convolution larger than 1x1, while it "
               "runs (empirical, H200 with cuDNN 9.19; backward convolutions: not added)")),
    "cpu": Target(
        name="cpu", round_to=1, foreach=False, matmul_workspace_bytes=0, conv_workspace_ratio=0.0,
        kernel_transients=transient_bytes,
        notes=("blocks counted at their exact size (the CPU allocator's accounting)",
               "optimizers take the single-tensor path",
               "convolutions on PyTorch's own CPU kernels (the slow paths: batch 1 and small, dilated, 3-D, "
               "transposed, float64, or oneDNN off) hold their im2col/vol2col column buffer while they run, "
               "forward and backward",
               "float32 convolutions on oneDNN (transposed ones too) hold their reorders into blocked layouts, "
               "blocked outputs and GEMM weight-gradient buffers while they run, forward and backward, for the "
               "x64 kernels of this CPU's vector width; their GEMM im2col buffers, kB-sized scratchpads and "
               "other dtypes are not modelled")),
}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name.lower()]
    except (KeyError, AttributeError):
        raise InputError(f"unknown device {name!r}; choose one of {', '.join(TARGETS)}") from None
