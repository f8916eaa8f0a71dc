"""The landscape and the picker's answer as tables (text, markdown, CSV, JSON)."""
from __future__ import annotations

from typing import Optional

from .formatting import human, human_bytes
from .tabular import Table, pct, right_aligned

HEADERS = ("Model", "Tag", "Input", "Status", "Params", "GMACs", "Act. memory", "Peak (batch 1)", "RF", "Top-1",
           "Top-5", "Accuracy source")
NOTES = ("MACs = multiply-accumulates (bias additions are not MACs); FLOPs in the JSON and CSV columns count 2 per "
         "MAC plus the per-element costs of other ops; parameters include biases",
         "activation memory = every tensor written in one forward pass at batch 1, float32; peak = the predicted "
         "inference peak on CUDA's allocator (cnnprofile.memory)",
         "RF = receptive field of the last feature map, in input pixels")


def _cells(entry) -> tuple:
    r, acc = entry.row, entry.accuracy
    if r.status != "profiled":
        return (r.model, r.tag or "-", r.input_size, f"failed ({r.failure}): {r.reason}", *["-"] * 8)
    return (r.model, r.tag or "-", r.input_size, "profiled", human(r.params), f"{r.macs / 1e9:.3f}",
            human_bytes(r.activation_bytes), human_bytes(r.peak_bytes_1), r.receptive_field or "-",
            pct(acc.top1 if acc else None), pct(acc.top5 if acc else None), acc.source if acc else "unknown")


def _record(entry) -> dict:
    flat = entry.flat()
    flat.pop("layers")  # the per-layer table: in the store and the DataFrame, too long for a listing
    return flat


def landscape_table(entries: list, title: str = "") -> Table:
    records = tuple(_record(e) for e in entries)
    return Table(headers=HEADERS, rows=tuple(_cells(e) for e in entries), align=right_aligned(len(HEADERS), 4, 11),
                 title=title, notes=NOTES, records=records)


def pick_table(entries: list, budget, title: Optional[str] = None) -> Table:
    from ..landscape.pick import peak_at

    headers = ("#", "Model", "Tag", "Input", "Top-1", "Top-5", "GMACs", "Params", f"Peak (batch {budget.batch})",
               "Accuracy source")
    rows, records = [], []
    for i, e in enumerate(entries, 1):
        r, acc = e.row, e.accuracy
        peak = peak_at(r, budget.batch)
        rows.append((i, r.model, r.tag or "-", r.input_size, pct(acc.top1), pct(acc.top5), f"{r.macs / 1e9:.3f}",
                     human(r.params), human_bytes(peak) if peak is not None else "-", acc.source))
        records.append({"rank": i, **_record(e), "peak_bytes": peak})
    limits = [f"{k} {v}" for k, v in (("GMACs <=", budget.max_gmacs), ("params <=", budget.max_params),
                                       ("peak bytes <=", budget.max_memory)) if v is not None]
    title = title or ("Pareto-optimal models" + (f" within {', '.join(limits)}" if limits else "")
                      + (f" at batch {budget.batch}" if budget.max_memory is not None else ""))
    return Table(headers=headers, rows=tuple(rows), align=right_aligned(len(headers), 4, 9), title=title,
                 notes=("best top-1 first; a model is listed when no other within the budget is as accurate and "
                        "no more costly on every budgeted axis (MACs when none is given)",) + NOTES,
                 records=tuple(records))
