"""Presentation of the zoo registry for ``cnnprofile list``."""
from __future__ import annotations

import csv
import io
import json

from .formatting import _rows_table, human


def _published(spec) -> str:
    p = spec.published
    # A count that includes train-only parameters (an auxiliary head) says so.
    unused = " (incl. train-only)" if p.params_include_unused else ""
    parts = [f"{human(p.params)} params{unused}" if p.params else "", f"{human(p.macs)} MACs" if p.macs else ""]
    return ", ".join(x for x in parts if x) or "-"


def render_zoo(specs, fmt: str) -> str:
    records = [{"name": s.name, "family": s.family, "input_size": "x".join(map(str, s.input_size)),
                "num_classes": s.num_classes, "published": _published(s), "paper": s.paper} for s in specs]
    if fmt == "json":
        return json.dumps(records, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return buf.getvalue()
    headers = ["Model", "Family", "Input (CxHxW)", "Classes", "Published", "Paper"]
    rows = [[r["name"], r["family"], r["input_size"], r["num_classes"], r["published"], r["paper"]]
            for r in records]
    return _rows_table(rows, headers, markdown=fmt == "markdown", right_from=3, right_to=4) + "\n"
