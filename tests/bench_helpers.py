"""Tiny models, timers and backends that let the benchmark sweep run in CI on a CPU."""
import itertools

import torch
from torch import nn

from cnnprofile.bench.backends import CpuBackend
from cnnprofile.bench.timers import Timer
from cnnprofile.inputs import Inputs, TensorSpec
from cnnprofile.sources import ModelSource


class TinyNet(nn.Module):
    def __init__(self, oom_from_batch=None):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 10)
        self.oom_from_batch = oom_from_batch

    def forward(self, x):
        if self.oom_from_batch and x.device.type != "meta" and x.shape[0] >= self.oom_from_batch:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


def tiny_source(name="tiny", oom_from_batch=None):
    return ModelSource(name=name, origin="file", builder=lambda: TinyNet(oom_from_batch),
                       inputs=Inputs((TensorSpec((1, 3, 8, 8)),)))


class ScriptedTimer(Timer):
    """Returns the given per-iteration times (ms) in a cycle, whatever really happened."""

    def __init__(self, pattern):
        self._cycle = itertools.cycle(pattern)
        self.reset()

    def reset(self):
        self._n = 0

    def start(self):
        pass

    def stop(self):
        self._n += 1

    def elapsed_ms(self):
        return [next(self._cycle) for _ in range(self._n)]


class CountingBackend(CpuBackend):
    """A CPU backend that counts memory releases and can claim a tiny roofline."""

    def __init__(self, peak=None):
        super().__init__()
        self.freed = 0
        self._peak = peak

    def free_memory(self):
        self.freed += 1
        super().free_memory()

    def peak_tflops(self, precision):
        return self._peak
