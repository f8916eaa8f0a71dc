"""Board power during the throughput window, as Canziani et al. (2016) report it: average watts and energy per image.

A ``PowerMeter`` is started just before the throughput window and stopped just after it; it returns the average
board power in watts over the window, or None where the device reports none. ``SampledPowerMeter`` polls any
``read_watts`` function from a background thread (so the timed loop itself does no extra work) and averages the
samples; on CUDA that function is NVML's power reading (``torch.cuda.power_draw``, or ``pynvml`` directly).

NVML's reading is itself an average over the sensor's own period (1/6 s to 1 s depending on the board), so a
window much shorter than a second mixes in power from before it; the sweep's default 1 s window is the shortest
worth reading. The figure is board power (the whole card: memory, fans, regulators), not the chip's alone.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Callable, Optional


class PowerMeter(ABC):
    @abstractmethod
    def start(self) -> None:
        """Begin measuring; called right before the throughput window."""

    @abstractmethod
    def stop(self) -> Optional[float]:
        """End measuring; the average power in watts since ``start``, or None if none could be read."""


class SampledPowerMeter(PowerMeter):
    """Averages ``read_watts()`` polled every ``interval_s`` from a daemon thread between start and stop.

    A sample is also taken at start and at stop, so even a window shorter than the interval has two readings.
    A reading that fails or returns None is skipped; if none succeeds, ``stop`` returns None.
    """

    def __init__(self, read_watts: Callable[[], Optional[float]], interval_s: float = 0.02):
        self._read = read_watts
        self._interval = interval_s
        self._samples: list = []
        self._done = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _sample(self) -> None:
        try:
            value = self._read()
        except Exception:  # a sensor that fails mid-window loses that sample, not the benchmark
            return
        if value is not None:
            self._samples.append(float(value))

    def _loop(self) -> None:
        while not self._done.wait(self._interval):
            self._sample()

    def start(self) -> None:
        self._samples = []
        self._done.clear()
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="power-meter", daemon=True)
        self._thread.start()

    def stop(self) -> Optional[float]:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._sample()
        return sum(self._samples) / len(self._samples) if self._samples else None

    @property
    def samples(self) -> int:
        return len(self._samples)


def nvml_reader(device_index: int) -> Optional[Callable[[], float]]:
    """A function returning the board's power in watts through NVML, or None where NVML or the reading is absent.

    ``torch.cuda.power_draw`` is tried first (it needs nvidia-ml-py); ``pynvml`` itself second. Both report
    milliwatts. The reader is probed once here, so a device that does not report power is known before timing.
    """
    candidates = []
    try:
        import torch

        if hasattr(torch.cuda, "power_draw"):
            candidates.append(lambda: torch.cuda.power_draw(device_index) / 1000.0)
    except ImportError:
        pass
    try:
        import pynvml

        def _pynvml() -> float:
            pynvml.nvmlInit()
            return pynvml.nvmlDeviceGetPowerUsage(pynvml.nvmlDeviceGetHandleByIndex(device_index)) / 1000.0

        candidates.append(_pynvml)
    except ImportError:
        pass
    for read in candidates:
        try:
            if read() > 0:
                return read
        except Exception:  # not installed, not supported on this board, or no permission: try the next
            continue
    return None


def energy_per_image(power_w: Optional[float], seconds: float, images: int) -> Optional[float]:
    """Joules per image: average power x window length / images processed in it."""
    if power_w is None or images <= 0:
        return None
    return power_w * seconds / images

