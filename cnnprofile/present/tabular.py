"""One table layer: a ``Table`` record and ``render_table``, which shows it as text, markdown, CSV or JSON.

A table holds what a person reads (headers, cells already formatted, per-column alignment, a title, notes) and,
for CSV and JSON, what a program reads (``records``: one dict of raw values per row). Nothing here computes a
figure; callers format their cells with the helpers below.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Literal, Mapping, Optional

FORMATS = ("text", "markdown", "csv", "json")
Align = Literal["left", "right"]


@dataclass(frozen=True)
class Table:
    headers: tuple  # of str
    rows: tuple  # of tuples of cells (str or int), one per row, as many cells as headers
    align: tuple = ()  # one Align per column; missing columns are left-aligned
    title: str = ""
    notes: tuple = ()  # of str, shown under the table as "- note"
    records: tuple = ()  # of dicts, the rows for JSON (and CSV) with raw values; default: headers -> cells
    flat_records: tuple = ()  # of dicts, the rows for CSV where JSON's nest (shapes, statistics); default: records
    columns: tuple = ()  # CSV columns (others in the records are left out); default: the first record's keys
    meta: Mapping[str, object] = field(default_factory=dict)  # JSON: {**meta, records_key: records} when given
    records_key: str = "rows"

    def __post_init__(self):
        if any(len(r) != len(self.headers) for r in self.rows):
            raise ValueError("every row needs one cell per header")

    def alignment(self, i: int) -> Align:
        return self.align[i] if i < len(self.align) else "left"


def right_aligned(n: int, start: int, stop: Optional[int] = None) -> tuple:
    """An alignment for ``n`` columns: columns ``start`` to ``stop - 1`` (the numbers) right, the others left."""
    stop = n if stop is None else stop
    return tuple("right" if start <= i < stop else "left" for i in range(n))


def pct(value: Optional[float]) -> str:
    """A percentage with two decimals; '-' where none is known."""
    return "-" if value is None else f"{value:.2f}"


def render_grid(table: Table, markdown: bool = False) -> str:
    """The headers and rows only, as aligned plain text or as a markdown table (no trailing newline)."""
    headers, rows = list(table.headers), [list(r) for r in table.rows]
    cells = [headers] + rows
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(headers))]
    right = [table.alignment(i) == "right" for i in range(len(headers))]

    def line(r):
        parts = [str(c).rjust(w) if right[i] else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        return ("| " + " | ".join(parts) + " |") if markdown else "  ".join(parts).rstrip()

    if markdown:
        sep = "|" + "|".join(("-" * (w + 1) + ":") if right[i] else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    else:
        sep = "  ".join("-" * w for w in widths).rstrip()
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


def _records(table: Table) -> list:
    return [dict(r) for r in table.records] if table.records else [dict(zip(table.headers, r)) for r in table.rows]


def render_table(table: Table, fmt: str = "text") -> str:
    """``table`` as ``fmt`` (one of FORMATS), ending in a newline."""
    if fmt == "json":
        records = _records(table)
        doc = {**table.meta, table.records_key: records} if table.meta else records
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "csv":
        records = [dict(r) for r in table.flat_records] or _records(table)
        columns = list(table.columns) or (list(records[0]) if records else list(table.headers))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
        return buf.getvalue()
    if fmt not in ("text", "markdown"):
        raise ValueError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    markdown = fmt == "markdown"
    lines = [f"### {table.title}" if markdown else table.title, ""] if table.title else []
    lines.append(render_grid(table, markdown))
    if table.notes:
        lines += [""] + [f"- {n}" for n in table.notes]
    return "\n".join(lines) + "\n"

