"""Peak memory of an inference pass or a training step, predicted by running it on the meta device.

``cnnprofile.memory(...)`` (this package, callable) and ``cnnprofile.analyses.memory.memory(...)`` are the entry point;
``MemoryReport`` is its record. See docs/memory.md for the definitions and every known difference between the
prediction and a real allocator.
"""
import sys
import types

from .api import Predictor, memory
from .report import JSON_KEYS, Definitions, LayerCosts, MemoryReport, PeakShare

__all__ = ["memory", "Predictor", "MemoryReport", "LayerCosts", "PeakShare", "Definitions", "JSON_KEYS"]


class _CallablePackage(types.ModuleType):
    """``cnnprofile.memory(...)`` reads like ``cnnprofile.profile(...)``; binding a function to that name in
    ``cnnprofile/__init__`` would hide this package (``import cnnprofile.analyses.memory.fit`` would then yield a
    function), so the package itself is callable instead."""

    def __call__(self, *args, **kwargs):
        return memory(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
