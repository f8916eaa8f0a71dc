"""Presentation of the zoo registry for ``cnnprofile list``."""
from __future__ import annotations

from ..present.formatting import human
from ..present.tabular import Table, render_table, right_aligned

HEADERS = ("Model", "Family", "Input (CxHxW)", "Classes", "Published", "Paper")


def _published(spec) -> str:
    p = spec.published
    # A count that includes train-only parameters (an auxiliary head) says so.
    unused = " (incl. train-only)" if p.params_include_unused else ""
    parts = [f"{human(p.params)} params{unused}" if p.params else "", f"{human(p.macs)} MACs" if p.macs else ""]
    return ", ".join(x for x in parts if x) or "-"


def zoo_table(specs) -> Table:
    records = tuple({"name": s.name, "family": s.family, "input_size": "x".join(map(str, s.input_size)),
                     "num_classes": s.num_classes, "published": _published(s), "paper": s.paper} for s in specs)
    return Table(headers=HEADERS, rows=tuple(tuple(r.values()) for r in records),
                 align=right_aligned(len(HEADERS), 3, 4), records=records)


def render_zoo(specs, fmt: str) -> str:
    return render_table(zoo_table(specs), fmt)


def markdown_last_maps(pairs: list) -> str:
    """The README's table: (model, ``receptive.ReceptiveField`` of its last feature map) per zoo model."""
    from ..present.formatting import axes

    lines = ["| Model | Last feature map | Receptive field | Stride | Padding | Note |", "|---|---|---:|---:|---:|---|"]
    for name, r in pairs:
        note = "also sees the whole input (SE gate)" if r.whole_input else ""
        lines.append(f"| {name} | `{r.name}` | {axes(r.receptive_field)} | {axes(r.effective_stride)} | "
                     f"{axes(r.effective_padding)} | {note} |")
    return "\n".join(lines) + "\n"
