"""The memory chart's predicted lines: which steps to predict (from benchmark results, or a default sweep) and
their peaks from ``cnnprofile.memory``. The chart draws them; nothing here draws.

With benchmark results, each series of results (a model in one configuration) gets the prediction of the step it
timed: inference or its training step with its optimizer, for its device's allocator, in its dtype or autocast
dtype, at its batch sizes (out-of-memory ones included). Without results, each model gets an inference line for
the CUDA allocator in float32 at ``DEFAULT_BATCHES``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from .data import MemoryLine, bench_cells, drawn_results

DEFAULT_BATCHES = (1, 8, 32, 128)
DEFAULT_DEVICE = "cuda"  # the memory predictor's default question: a GPU


@dataclass(frozen=True)
class MemoryRequest:
    """One line to predict."""

    series: str
    model: str
    device: str
    dtype: str
    autocast: bool
    train: bool
    optimizer: Optional[str]
    batches: tuple

    @property
    def step(self) -> str:
        return f"training step ({self.optimizer or 'none'})" if self.train else "inference"


def memory_requests(models: Sequence[str], results: Sequence = ()) -> tuple:
    """The lines to predict: one per series of results whose model is in ``models``, or, without results, one
    inference line per model."""
    kept = drawn_results(results)
    if not kept:
        return tuple(MemoryRequest(m, m, DEFAULT_DEVICE, "float32", False, False, None, DEFAULT_BATCHES)
                     for m in dict.fromkeys(models))
    out: dict = {}
    for r, cell in zip(kept, bench_cells(kept)):
        if r.model not in models:
            continue
        req = out.get(cell.series)
        batches = tuple(sorted({*(req.batches if req else ()), r.batch_size}))
        out[cell.series] = MemoryRequest(cell.series, r.model, r.device, r.dtype, r.autocast, r.train,
                                         r.optimizer if r.train else None, batches)
    return tuple(out.values())


def predict_lines(requests: Sequence[MemoryRequest], sources: Mapping) -> tuple:
    """A MemoryLine per request, its peaks from ``cnnprofile.memory``; ``sources`` maps model names to what to
    build (a ModelSource or spec). A model the predictor cannot run gets a line with its one-line reason."""
    from ...bench.predict import memory_options
    from ...errors import CnnprofileError, first_line
    from ...analyses.memory import Predictor

    lines = []
    for q in requests:
        try:
            predictor = Predictor(sources.get(q.model, q.model),
                                  **memory_options(q.device, q.dtype, q.autocast, q.train, q.optimizer))
            peaks = tuple(predictor.at(b).peak_bytes for b in q.batches)
        except CnnprofileError as e:
            lines.append(MemoryLine(q.series, q.model, q.step, q.device, error=first_line(e)))
            continue
        lines.append(MemoryLine(q.series, q.model, q.step, q.device, q.batches, peaks))
    return tuple(lines)
