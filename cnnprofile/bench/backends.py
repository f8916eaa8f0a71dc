"""Device backends: what differs between timing on a GPU and on a CPU, behind one small interface.

The runner only talks to a backend, so tests drive the whole sweep on a CPU with a fake backend (one that
fails with an out-of-memory error at some batch size, say).
"""
from __future__ import annotations

import gc
from typing import Optional

from ..errors import InputError
from .env import capture_env, cpu_model
from ..devices import peak_tflops
from .power import PowerMeter, SampledPowerMeter, nvml_reader
from .timers import CudaEventTimer, Timer, WallClockTimer


def _rss_bytes(field: str) -> Optional[int]:
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


_UNPROBED = object()  # NVML is probed once per backend, on first use


class CpuBackend:
    name = "cpu"
    # Peak memory on a CPU: the peak resident set during the timed runs minus the resident set before the
    # model was built (Linux VmHWM, reset through /proc/self/clear_refs). It includes allocator slack and
    # can undercount when memory freed by an earlier cell is reused, hence its own label.
    memory_kind = "rss_delta"

    def __init__(self):
        self._baseline: Optional[int] = None
        self._hwm_resettable = True

    @property
    def torch_device(self) -> str:
        return self.name

    def device_name(self) -> str:
        return cpu_model()

    def env(self) -> dict:
        return capture_env(self.name)

    def synchronize(self) -> None:
        pass

    def make_timer(self) -> Timer:
        return WallClockTimer(self.synchronize)

    def prepare(self) -> None:
        """Called once before a sweep."""

    def mark_baseline(self) -> None:
        self._baseline = _rss_bytes("VmRSS")

    def reset_peak_memory(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current resident set
        except OSError:
            self._hwm_resettable = False

    def peak_memory(self) -> Optional[int]:
        hwm = _rss_bytes("VmHWM")
        if not self._hwm_resettable or hwm is None or self._baseline is None:
            return None
        return max(hwm - self._baseline, 0)

    def free_memory(self) -> None:
        gc.collect()

    def is_oom(self, exc: BaseException) -> bool:
        import torch

        if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
            return True
        return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()

    def peak_tflops(self, precision: str) -> Optional[float]:
        return None  # no registry of CPU peaks: a CPU's % of peak is left blank

    def power_meter(self) -> Optional[PowerMeter]:
        """A meter for the throughput window, or None: a CPU's package power is not read."""
        return None


class CudaBackend(CpuBackend):
    name = "cuda"
    memory_kind = "cuda_max_allocated"  # torch.cuda.max_memory_allocated after reset_peak_memory_stats

    def __init__(self):
        super().__init__()
        import torch

        self._torch = torch
        self._power_reader = _UNPROBED

    def device_name(self) -> str:
        return self._torch.cuda.get_device_name(self._torch.cuda.current_device())

    def synchronize(self) -> None:
        self._torch.cuda.synchronize()

    def make_timer(self) -> Timer:
        return CudaEventTimer()

    def prepare(self) -> None:
        # Let cuDNN pick the fastest algorithm per shape; it does so during warm-up, before any timing.
        self._torch.backends.cudnn.benchmark = True

    def mark_baseline(self) -> None:
        pass

    def reset_peak_memory(self) -> None:
        self._torch.cuda.synchronize()
        self._torch.cuda.reset_peak_memory_stats()

    def peak_memory(self) -> Optional[int]:
        self._torch.cuda.synchronize()
        return int(self._torch.cuda.max_memory_allocated())

    def free_memory(self) -> None:
        gc.collect()
        self._torch.cuda.synchronize()
        self._torch.cuda.empty_cache()

    def peak_tflops(self, precision: str) -> Optional[float]:
        return peak_tflops(self.device_name(), precision)

    def power_meter(self) -> Optional[PowerMeter]:
        """NVML board power, sampled in the background; None where the board or the install does not report it."""
        if self._power_reader is _UNPROBED:
            self._power_reader = nvml_reader(self._torch.cuda.current_device())
        return SampledPowerMeter(self._power_reader) if self._power_reader is not None else None


def select_backend(device: str):
    """'auto' -> CUDA when a GPU is visible, else CPU; asking for CUDA without one is a user error."""
    import torch

    device = (device or "auto").lower()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            why = "this torch has no CUDA support" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise InputError(f"--device cuda: {why} (torch {torch.__version__}); use --device cpu")
        return CudaBackend()
    if device == "cpu":
        return CpuBackend()
    raise InputError(f"unknown device {device!r}; choose cuda, cpu or auto")
