"""``pick()``: the models most accurate for what they cost, within a budget.

A candidate is a profiled row with a published top-1 and within every budget given. It is on the frontier
when no other candidate is at least as accurate and at most as costly on every cost axis, and strictly better
on one of them. The cost axes are the budgets given (GMACs, parameters, peak memory at ``batch``, predicted
latency at ``batch``), MACs when none is; the frontier is listed best top-1 first. A latency budget reads the
rows' predictions (``landscape.predicted``): a row without one (no kernels stored) is not a candidate.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..errors import InputError
from .records import LandscapeRow


@dataclass(frozen=True)
class Budget:
    max_gmacs: Optional[float] = None
    max_params: Optional[int] = None
    max_memory: Optional[int] = None  # bytes of predicted inference peak at ``batch``
    batch: int = 1
    max_ms: Optional[float] = None  # predicted milliseconds of one forward pass at ``batch`` on the predicted device


def peak_at(row, batch: int) -> Optional[int]:
    """The row's predicted inference peak at ``batch``, where the store has it."""
    if batch == 1:
        return row.peak_bytes_1
    return row.peak_bytes_batch if row.batch == batch else None


def predicted_ms(row, predictions) -> Optional[float]:
    """The row's predicted milliseconds in ``predictions`` (``landscape.predicted.RowPredictions``), if any."""
    found = predictions.of(row) if predictions is not None else None
    return None if found is None else found.seconds * 1e3


def _costs(entry: LandscapeRow, budget: Budget, predictions=None) -> tuple:
    r = entry.row
    axes = []
    if budget.max_gmacs is not None or (budget.max_params is None and budget.max_memory is None
                                        and budget.max_ms is None):
        axes.append(r.macs)
    if budget.max_params is not None:
        axes.append(r.params)
    if budget.max_memory is not None:
        axes.append(peak_at(r, budget.batch))
    if budget.max_ms is not None:
        axes.append(predicted_ms(r, predictions))
    return tuple(axes)


def _within(entry: LandscapeRow, budget: Budget, predictions=None) -> bool:
    r = entry.row
    if r.status != "profiled" or entry.accuracy is None:
        return False
    if budget.max_gmacs is not None and r.macs > budget.max_gmacs * 1e9:
        return False
    if budget.max_params is not None and r.params > budget.max_params:
        return False
    if budget.max_memory is not None:
        peak = peak_at(r, budget.batch)
        if peak is None or peak > budget.max_memory:
            return False
    if budget.max_ms is not None:
        ms = predicted_ms(r, predictions)
        if ms is None or ms > budget.max_ms:
            return False
    return True


def dominates(a: tuple, b: tuple) -> bool:
    """a = (top1, *costs) is at least as good as b everywhere and better somewhere."""
    at_least = a[0] >= b[0] and all(x <= y for x, y in zip(a[1:], b[1:]))
    return at_least and (a[0] > b[0] or any(x < y for x, y in zip(a[1:], b[1:])))


def frontier(entries: list, budget: Budget, predictions=None) -> list:
    """The Pareto-optimal entries within ``budget``, best top-1 first (ties: cheaper first); ``predictions``
    (``landscape.predicted.RowPredictions`` at ``budget.batch``) are what ``budget.max_ms`` is checked on."""
    if budget.batch < 1:
        raise InputError(f"--batch must be at least 1, got {budget.batch}")
    if budget.max_ms is not None:
        if predictions is None:
            raise InputError("a latency budget (--max-ms) needs a device to predict on (--device KEY)")
        if predictions.batch != budget.batch:
            raise ValueError(f"predictions at batch {predictions.batch} for a budget at batch {budget.batch}")
    candidates = [e for e in entries if _within(e, budget, predictions)]
    if budget.max_memory is not None and budget.batch != 1 and not any(e.row.batch == budget.batch for e in entries):
        batches = sorted({e.row.batch for e in entries})
        raise InputError(f"the store has peak memory at batch 1 and {', '.join(map(str, batches))}, not at "
                         f"{budget.batch}: sweep again with --batch {budget.batch}")
    # One entry per network and tag: rows of the same cell swept at several batches count once.
    unique = {}
    for e in candidates:
        unique.setdefault((e.row.model, e.row.tag, e.row.input_size), e)
    points = [((e.accuracy.top1, *_costs(e, budget, predictions)), e) for e in unique.values()]
    best = [e for p, e in points if not any(dominates(q, p) for q, _ in points)]
    return sorted(best, key=lambda e: (-e.accuracy.top1, _costs(e, budget, predictions), e.row.key))
