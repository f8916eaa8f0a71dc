"""The real engine: the meta engine's recorder and formulas on a real forward pass, on the CPU.

For models whose shapes depend on the data (detection: ``nonzero`` and ``nms`` choose the boxes), which the
meta device cannot know. A named model is built on the CPU with random weights (seeded, so a run repeats); a
user's module runs with its own weights, read through detached aliases, never moved, cast or changed. Integer
inputs are drawn below the first embedding's size, floating ones from a normal distribution. The records are
the meta engine's; only where the values come from differs.
"""
from __future__ import annotations

from .meta import MetaEngine


class RealEngine(MetaEngine):
    name = "real"
    device = "cpu"
    build_device = "cpu"


ENGINE = RealEngine()
