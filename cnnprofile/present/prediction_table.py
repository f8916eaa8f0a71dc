"""A latency prediction as a table: one row per layer (its kernels, FLOPs, bytes, the two roofs, the predicted
time, what binds it, its share of the pass), the totals, the kernel classes that dominate, and the conventions."""
from __future__ import annotations

from dataclasses import asdict

from .formatting import human, human_bytes
from .tabular import Table, right_aligned


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.4g}"


def _rate(per_s: float) -> str:
    return human(per_s) if per_s >= 1000 else f"{per_s:.4g}"


def prediction_table(p, top: int | None = None) -> Table:
    """``p``: a ``predict.Prediction``. ``top`` keeps the layers that take most time (all by default)."""
    layers = list(p.layers)
    shown = sorted(layers, key=lambda r: -r.seconds)[:top] if top else layers
    headers = ("Layer", "Kernels", "FLOPs", "Bytes", "Compute ms", "Memory ms", "Predicted ms", "Bound", "Share %")
    rows = tuple((r.name, r.kernels, human(r.flops), human_bytes(r.bytes_moved), _ms(r.compute_s), _ms(r.memory_s),
                  _ms(r.seconds), r.bound, f"{100 * r.seconds / p.seconds:.1f}") for r in shown)
    classes = ", ".join(f"{c} {100 * s / p.seconds:.0f}%" for c, s in sorted(p.classes.items(), key=lambda kv: -kv[1])
                        if s / p.seconds >= 0.005)
    err = ("" if p.calibration_error is None
           else f" (on the rows it was fitted on: median |error| {100 * p.calibration_error:.1f}%)")
    notes = [f"predicted {_ms(p.seconds)} ms per forward pass of {p.batch} "
             f"({_rate(p.images_per_s)} images/s); layers add up to it"
             + (f", {_ms(p.cast_s)} ms of autocast weight casts included (in the layers reading the weights)"
                if p.cast_s else ""),
             f"time by kernel class: {classes}",
             f"calibration: {p.calibration}{err}",
             f"peaks: {'; '.join(s for s in p.peaks if s)}",
             f"convention: {p.convention}"]
    if p.uncounted_kernels:
        notes.append(f"{p.uncounted_kernels} kernels have no FLOP formula: timed on their bytes only")
    if top and top < len(layers):
        notes.insert(0, f"the {top} slowest of {len(layers)} layers")
    title = (f"{p.model} on {p.device_name} ({p.device}), {p.step}, batch {p.batch}, input "
             f"{'x'.join(map(str, p.input_shape))}")
    records = tuple(dict(asdict(r), share=r.seconds / p.seconds) for r in shown)
    meta = {k: v for k, v in asdict(p).items() if k != "layers"}
    return Table(headers, rows, right_aligned(len(headers), 1, 7), title=title, notes=tuple(notes), records=records,
                 meta=meta, records_key="layers")


__all__ = ["prediction_table"]
