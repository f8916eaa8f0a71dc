"""Whose allocator and kernels a prediction models: ``cuda`` (the default question) or ``cpu`` (the oracle here).

Every number here is an assumption stated once, so a GPU check can validate or correct it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

MiB = 1 << 20


@dataclass(frozen=True)
class Target:
    name: str
    round_to: int  # the allocator's block granularity: every block is rounded up to a multiple of it
    foreach: bool  # optimizers take the multi-tensor path (temporaries the size of a whole state list)
    # Persistent library workspace allocated through the framework's allocator by the first matrix product.
    matmul_workspace_bytes: int
    # Workspace a convolution may take for the duration of one call (added to the peak once, as a transient).
    conv_workspace_bytes: int
    notes: tuple = ()


TARGETS = {
    "cuda": Target(
        name="cuda", round_to=512, foreach=True,
        # cuBLAS's workspace comes from PyTorch's caching allocator: CUBLAS_WORKSPACE_CONFIG's default
        # ":4096:8" on Hopper and later is 8 chunks of 4096 KiB = 32 MiB per handle and stream.
        matmul_workspace_bytes=32 * MiB,
        # cuDNN's workspace depends on the algorithm its heuristics pick (benchmark off) and is freed after
        # each call; it is not modelled (0) until a GPU check measures it.
        conv_workspace_bytes=0,
        notes=("every block rounded up to 512 B (the caching allocator's granularity)",
               "optimizers take the foreach (multi-tensor) path",
               "cuBLAS workspace: 32 MiB (CUBLAS_WORKSPACE_CONFIG default :4096:8), once a matrix product runs",
               "cuDNN convolution workspace: not added (estimate 0; a GPU check measures it)")),
    "cpu": Target(
        name="cpu", round_to=1, foreach=False, matmul_workspace_bytes=0, conv_workspace_bytes=0,
        notes=("blocks counted at their exact size (the CPU allocator's accounting)",
               "optimizers take the single-tensor path",
               "no library workspaces through the allocator")),
}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name.lower()]
    except (KeyError, AttributeError):
        raise InputError(f"unknown device {name!r}; choose one of {', '.join(TARGETS)}") from None
