"""Peak memory of an inference pass or a training step, predicted by running it on the meta device.

``memory()`` is the entry point; ``MemoryReport`` its record. See docs/memory.md for the definitions and every
known difference between the prediction and a real allocator.
"""
from .api import Predictor, memory
from .report import JSON_KEYS, Definitions, LayerCosts, MemoryReport, PeakShare

__all__ = ["memory", "Predictor", "MemoryReport", "LayerCosts", "PeakShare", "Definitions", "JSON_KEYS"]
