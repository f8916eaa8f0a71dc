"""Timers for one iteration at a time: CUDA events on a GPU, the wall clock on a CPU.

Both share one interface: ``start()`` and ``stop()`` bracket an iteration, ``elapsed_ms()`` returns every
bracketed interval since ``reset()``. The CUDA timer only records events while iterations run and
synchronizes when the intervals are read, so timing adds no host-device round trip between iterations.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Callable


class Timer(ABC):
    @abstractmethod
    def reset(self) -> None: ...

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def elapsed_ms(self) -> list: ...


class WallClockTimer(Timer):
    """``time.perf_counter`` around each iteration; ``sync`` (if given) is called before each reading so
    asynchronous work is included."""

    def __init__(self, sync: Callable[[], None] = lambda: None):
        self._sync = sync
        self.reset()

    def reset(self) -> None:
        self._intervals: list = []
        self._t0 = None

    def start(self) -> None:
        self._sync()
        self._t0 = time.perf_counter()

    def stop(self) -> None:
        self._sync()
        self._intervals.append((time.perf_counter() - self._t0) * 1e3)

    def elapsed_ms(self) -> list:
        return list(self._intervals)


class CudaEventTimer(Timer):
    """A pair of CUDA events per iteration on the current stream; read after one synchronization."""

    def __init__(self):
        import torch

        self._torch = torch
        self.reset()

    def reset(self) -> None:
        self._pairs: list = []

    def start(self) -> None:
        ev = self._torch.cuda.Event(enable_timing=True)
        ev.record()
        self._pairs.append([ev, None])

    def stop(self) -> None:
        ev = self._torch.cuda.Event(enable_timing=True)
        ev.record()
        self._pairs[-1][1] = ev

    def elapsed_ms(self) -> list:
        if not self._pairs:
            return []
        self._pairs[-1][1].synchronize()
        return [a.elapsed_time(b) for a, b in self._pairs]


def time_iterations(timer: Timer, step: Callable[[], object], n: int) -> list:
    """Run ``step`` n times back to back, timing each; the per-iteration times in ms."""
    timer.reset()
    for _ in range(n):
        timer.start()
        step()
        timer.stop()
    return timer.elapsed_ms()
