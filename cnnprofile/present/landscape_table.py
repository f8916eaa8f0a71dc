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
    flat.pop("kernels")  # ... and the kernels, compressed
    return flat


def landscape_table(entries: list, title: str = "") -> Table:
    records = tuple(_record(e) for e in entries)
    return Table(headers=HEADERS, rows=tuple(_cells(e) for e in entries), align=right_aligned(len(HEADERS), 4, 11),
                 title=title, notes=NOTES, records=records)


def _predicted_cells(row, predictions) -> tuple:
    p = predictions.of(row) if predictions is not None else None
    if p is None:
        return ("-", "-"), {"predicted_ms": None, "predicted_images_per_s": None}
    return ((f"{p.seconds * 1e3:.3f}", f"{p.images_per_s:,.0f}"),
            {"predicted_ms": p.seconds * 1e3, "predicted_images_per_s": p.images_per_s})


def pick_table(entries: list, budget, title: Optional[str] = None, predictions=None) -> Table:
    """The picker's answer; with ``predictions`` (``landscape.predicted.RowPredictions``) each model's predicted
    milliseconds and images per second on their device, and where their calibration comes from."""
    from ..landscape.pick import peak_at

    headers = ("#", "Model", "Tag", "Input", "Top-1", "Top-5", "GMACs", "Params", f"Peak (batch {budget.batch})")
    if predictions is not None:
        headers += ("Pred. ms", "Pred. img/s")
    headers += ("Accuracy source",)
    rows, records = [], []
    for i, e in enumerate(entries, 1):
        r, acc = e.row, e.accuracy
        peak = peak_at(r, budget.batch)
        cells, figures = _predicted_cells(r, predictions)
        rows.append((i, r.model, r.tag or "-", r.input_size, pct(acc.top1), pct(acc.top5), f"{r.macs / 1e9:.3f}",
                     human(r.params), human_bytes(peak) if peak is not None else "-",
                     *(cells if predictions is not None else ()), acc.source))
        records.append({"rank": i, **_record(e), "peak_bytes": peak, **(figures if predictions is not None else {})})
    limits = [f"{k} {v}" for k, v in (("GMACs <=", budget.max_gmacs), ("params <=", budget.max_params),
                                       ("peak bytes <=", budget.max_memory), ("predicted ms <=", budget.max_ms))
              if v is not None]
    title = title or ("Pareto-optimal models" + (f" within {', '.join(limits)}" if limits else "")
                      + (f" at batch {budget.batch}" if budget.max_memory is not None or budget.max_ms is not None
                         else "")
                      + (f" on the {predictions.device_name} ({predictions.step})" if predictions is not None
                         else ""))
    notes = ("best top-1 first; a model is listed when no other within the budget is as accurate and no more costly "
             "on every budgeted axis (MACs when none is given)",)
    if predictions is not None:
        notes += (predictions.provenance, "Pred. ms = predicted milliseconds of one forward pass of the batch; "
                  "Pred. img/s = the batch over it; a prediction, not a measurement")
    return Table(headers=headers, rows=tuple(rows), align=right_aligned(len(headers), 4, len(headers) - 1),
                 title=title, notes=notes + NOTES, records=tuple(records))
