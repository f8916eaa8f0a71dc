"""What the analyzer and the memory predictor say about a cell before it runs: FLOPs per image and the peak.

The prediction is ``cnnprofile.memory``'s peak for the very step the cell times (inference, or a training step
with the cell's optimizer), in the cell's dtype or autocast dtype, for the bench device's allocator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..sources import ModelSource

# ``BenchResult.predicted_memory_kind`` of results written from now on; files written before carry None, for
# which the figure was the activations written in one pass plus the weights.
PREDICTED_PEAK = "peak"


@dataclass(frozen=True)
class Analysis:
    flops: Optional[int]  # per image, one forward pass (the analyzer)
    macs: Optional[int]
    params: Optional[int]
    predicted_bytes: Optional[int]  # the predicted peak of the timed step
    train_flops: Optional[int] = None  # per image, forward + backward of a training step (the memory predictor)
    prediction_error: Optional[str] = None  # why the memory predictor gave no peak (the cell is timed anyway)


def memory_options(device: str, dtype: str, autocast: bool, train: bool, optimizer: Optional[str]) -> dict:
    """``cnnprofile.memory`` keyword arguments for a bench configuration: autocast keeps float32 weights."""
    return dict(dtype="float32" if autocast else dtype, amp=dtype if autocast else None, train=train,
                optimizer=(optimizer or "none") if train else "none", device=device)


def analyse(source: ModelSource, batch: int, cfg, device: str) -> Analysis:
    """FLOPs/MACs per image from the meta-device analyzer, and the memory predictor's peak for ``device``.

    The analyzer failing fails the cell (the timing would fail the same way); the memory predictor failing
    only leaves the prediction blank, with its reason, since the model may still run for real.
    """
    from ..analyzer import profile
    from ..errors import CnnprofileError, first_line
    from ..analyses.memory import Predictor

    p = profile(source, list(getattr(cfg, "inputs", ())) or None, batch=batch, dtype=cfg.dtype)
    t = p.totals
    base = dict(flops=t.flops // batch, macs=t.macs // batch, params=t.params)
    try:
        mem = Predictor(source, **memory_options(device, cfg.dtype, cfg.autocast, cfg.train,
                                                 cfg.optimizer)).at(batch)
    except CnnprofileError as e:
        return Analysis(predicted_bytes=None, prediction_error=first_line(e)[:300], **base)
    train_flops = (mem.forward_flops + mem.backward_flops) // batch if cfg.train else None
    return Analysis(predicted_bytes=mem.peak_bytes, train_flops=train_flops, **base)
