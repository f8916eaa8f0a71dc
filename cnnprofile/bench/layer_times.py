"""Measured time of every leaf module call, next to its roofline bound: which layers run furthest below it?

Forward pre- and post-hooks bracket each leaf module call with a ``Timer`` (CUDA events on a GPU, so the
kernels of that call are timed on the stream without a synchronisation between layers; the wall clock on a
CPU). A module called several times in one forward pass (torchvision's ``Bottleneck`` reuses its ``relu``)
has one timer per call, in call order, so the k-th call lines up with the k-th row of that name in the
traced graph. Functional ops in a parent's ``forward`` (``x + identity``) belong to no leaf module and are
not timed; they are listed with their bound only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from .timers import Timer


@dataclass(frozen=True)
class LayerTime:
    name: str
    call: int  # 0 for the module's first call in a forward pass, 1 for its second...
    type: str
    times_ms: tuple  # one per timed repetition


class LayerTimer:
    """Hooks every leaf module of ``model``; each forward pass run inside ``with`` is timed call by call."""

    def __init__(self, model, make_timer: Callable[[], Timer]):
        self.model, self.make_timer = model, make_timer
        self.timers: dict = {}  # (name, call) -> Timer, in first-call order
        self.types: dict = {}
        self._calls: dict = {}
        self._open: list = []
        self._handles: list = []

    def __enter__(self) -> "LayerTimer":
        for name, module in self.model.named_modules():
            if next(module.children(), None) is None:
                self._handles += [module.register_forward_pre_hook(self._pre(name, type(module).__name__)),
                                  module.register_forward_hook(self._post)]
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _pre(self, name: str, type_name: str):
        def hook(module, args):
            call = self._calls.get(name, 0)
            self._calls[name] = call + 1
            key = (name, call)
            if key not in self.timers:
                self.timers[key], self.types[key] = self.make_timer(), type_name
            self._open.append(key)
            self.timers[key].start()
        return hook

    def _post(self, module, args, output):
        self.timers[self._open.pop()].stop()

    def forward(self, run: Callable[[], object]) -> None:
        """One forward pass (``run()``), every leaf call timed."""
        self._calls.clear()
        run()

    def reset(self) -> None:
        """Forget what was timed so far (after the warm-up)."""
        for t in self.timers.values():
            t.reset()

    def results(self) -> list:
        return [LayerTime(name, call, self.types[(name, call)], tuple(t.elapsed_ms()))
                for (name, call), t in self.timers.items()]


def time_layers(model, run: Callable[[], object], make_timer: Callable[[], Timer], reps: int,
                warmup: int) -> list:
    """``LayerTime`` of every leaf module call of ``model`` over ``reps`` forward passes (``run()``) after
    ``warmup`` untimed ones."""
    with LayerTimer(model, make_timer) as lt:
        for _ in range(warmup):
            lt.forward(run)
        lt.reset()
        for _ in range(reps):
            lt.forward(run)
        return lt.results()


@dataclass(frozen=True)
class LayerVsBound:
    name: str
    call: int
    type: str
    bound: str  # "compute", "memory" or "none"
    least_time_ms: float
    measured_ms: float | None  # median over the repetitions; None for functional rows (not timed)
    measured_min_ms: float | None
    flops: int
    bytes_moved: int

    @property
    def ratio(self) -> float | None:
        """Measured / bound: how far below its roofline the layer runs (1 = on the roof)."""
        if self.measured_ms is None or not self.least_time_ms:
            return None
        return self.measured_ms / self.least_time_ms


def join(times: list, rows: list, traffic_layers: tuple, bounds: tuple) -> list:
    """One ``LayerVsBound`` per row of the traced graph (``graph.rows()``, with its traffic and roofline
    records in the same order): leaf rows take the times of the same module call, by name and call index."""
    by_key = {(t.name, t.call): t for t in times}
    seen: dict = {}
    out = []
    for row, traffic, bound in zip(rows, traffic_layers, bounds):
        measured = None
        if not row.segment:
            call = seen.get(row.name, 0)
            seen[row.name] = call + 1
            measured = by_key.get((row.name, call))
        else:
            call = -1
        ms = list(measured.times_ms) if measured else []
        out.append(LayerVsBound(
            name=row.name, call=call, type=measured.type if measured else "(functional)", bound=bound.bound,
            least_time_ms=bound.least_time_s * 1e3, measured_ms=median(ms) if ms else None,
            measured_min_ms=min(ms) if ms else None, flops=traffic.flops,
            bytes_moved=traffic.bytes_read + traffic.bytes_written))
    return out


def furthest_below(layers: list, n: int = 3) -> list:
    """The ``n`` timed layers with the largest measured / bound ratio."""
    ranked = [x for x in layers if x.ratio is not None]
    return sorted(ranked, key=lambda x: -x.ratio)[:n]
