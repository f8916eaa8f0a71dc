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


def predict_lines(requests: Sequence[MemoryRequest], sources: Mapping, recorded: Optional[Mapping] = None) -> tuple:
    """A MemoryLine per request, its peaks from ``cnnprofile.memory``; ``sources`` maps model names to what to
    build (a ModelSource or spec). ``recorded`` maps model names to the pass already recorded for them, with its
    storage log (``record.run.Traced``): an inference line in that pass's dtype is read from it (its input, at
    each batch), with no pass of its own. A model the predictor cannot run gets a line with its one-line reason."""
    from ...bench.predict import memory_options
    from ...errors import CnnprofileError, first_line
    from ...analyses.memory import Predictor
    from ...analyses.memory.replay import peaks as replayed_peaks
    from ...analyses.memory.targets import get_target
    from ...inputs import dtype_name

    recorded = recorded or {}
    lines = []
    for q in requests:
        options = memory_options(q.device, q.dtype, q.autocast, q.train, q.optimizer)
        traced = recorded.get(q.model)
        try:
            if (traced is not None and traced.recording.storage is not None and not q.train and not q.autocast
                    and dtype_name(traced.dtype) == q.dtype):
                shape = traced.inputs.main.shape

                def step(b, q=q, options=options, shape=shape):  # a batch the recording cannot be replayed at
                    return Predictor(sources.get(q.model, q.model), shape, **options)._step(b).peak_bytes
                peaks = replayed_peaks(traced, get_target(q.device), q.batches, step=step)
            else:
                peaks = Predictor(sources.get(q.model, q.model), **options).peaks(q.batches)
        except CnnprofileError as e:
            lines.append(MemoryLine(q.series, q.model, q.step, q.device, error=first_line(e)))
            continue
        lines.append(MemoryLine(q.series, q.model, q.step, q.device, q.batches, peaks))
    return tuple(lines)
