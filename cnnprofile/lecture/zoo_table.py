"""Presentation of the zoo registry for ``cnnprofile list``."""
from __future__ import annotations

from typing import Optional

from ..present.formatting import human
from ..present.tabular import Table, render_table, right_aligned

HEADERS = ("Model", "Family", "Input (CxHxW)", "Classes", "Published", "Paper")


def _published(spec) -> str:
    p = spec.published
    # A count that includes train-only parameters (an auxiliary head) says so.
    unused = " (incl. train-only)" if p.params_include_unused else ""
    parts = [f"{human(p.params)} params{unused}" if p.params else "", f"{human(p.macs)} MACs" if p.macs else ""]
    return ", ".join(x for x in parts if x) or "-"


def grid_note(size, per_cell: str) -> str:
    """A detector's (C, H, W) output the lecture's way: "13x13x125 = 13x13 cells x 5 anchors x (...)"."""
    channels, height, width = size[-3:]
    return f"{height}x{width}x{channels} = {height}x{width} cells x {per_cell}"


def _notes(specs, ours: dict) -> tuple:
    """A detector's output explained per cell, and figures published as operations (2 per multiply-add) beside
    ours; ``ours`` maps a model's name to the MACs we count at its native input."""
    notes = []
    for s in specs:
        if s.output_note:
            notes.append(f"{s.name}: output {grid_note(s.output_size, s.output_note)}")
    counted = [s for s in specs if s.published.operations and s.name in ours]
    if counted:
        notes.append("operations (darknet's count and the YOLO papers'): 2 per multiply-add of convolutions and "
                     "dense layers, nothing else; published beside ours:")
    for s in counted:
        notes.append(f"{s.name} at {'x'.join(map(str, s.input_size))}: published {s.published.operations / 1e9:.2f} "
                     f"billion operations, ours {2 * ours[s.name] / 1e9:.2f} billion ({human(ours[s.name])} MACs)")
    return tuple(notes)


def zoo_table(specs, ours: Optional[dict] = None) -> Table:
    records = tuple({"name": s.name, "family": s.family, "input_size": "x".join(map(str, s.input_size)),
                     "num_classes": s.num_classes, "published": _published(s), "paper": s.paper} for s in specs)
    return Table(headers=HEADERS, rows=tuple(tuple(r.values()) for r in records),
                 align=right_aligned(len(HEADERS), 3, 4), records=records, notes=_notes(specs, ours or {}))


def render_zoo(specs, fmt: str, ours: Optional[dict] = None) -> str:
    return render_table(zoo_table(specs, ours), fmt)


def markdown_last_maps(pairs: list) -> str:
    """The README's table: (model, ``receptive.ReceptiveField`` of its last feature map) per zoo model."""
    from ..present.formatting import axes

    lines = ["| Model | Last feature map | Receptive field | Stride | Padding | Note |", "|---|---|---:|---:|---:|---|"]
    for name, r in pairs:
        note = "also sees the whole input (SE gate)" if r.whole_input else ""
        lines.append(f"| {name} | `{r.name}` | {axes(r.receptive_field)} | {axes(r.effective_stride)} | "
                     f"{axes(r.effective_padding)} | {note} |")
    return "\n".join(lines) + "\n"
