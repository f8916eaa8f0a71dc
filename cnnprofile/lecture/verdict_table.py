"""The lecture's verdicts as a table: verdict (the lecture's words, Spanish and English), claim, numbers, holds.

Presentation only: the Verdicts (``cnnprofile.lecture.verdicts``) are decided elsewhere; this formats their
numbers for a reader (three significant digits) and keeps the exact values beside them (``exact``: the HTML
report's hover text; ``records``: JSON/CSV), so a close call can always be read to the last digit.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..present.formatting import human, human_bytes
from ..present.tabular import Table
from .verdicts import QUOTES, as_records

HEADERS = ("Family", "The lecture's verdict", "Claim", "Our numbers", "Holds")
HOLDS, FAILS = "holds", "does not hold"

# quantity -> (what a reader calls it, how its value is shown)
QUANTITIES = {
    "params": ("parameters", human),
    "macs": ("MACs per image", human),
    "activation_bytes": ("activation memory", human_bytes),
    "memory_bytes": ("weights + activations", human_bytes),
    "top1": ("top-1 %", lambda v: f"{v:.2f}"),
    "top1_per_gmac": ("top-1 % per GMAC", lambda v: f"{v:.1f}"),
    "top1_per_mparam": ("top-1 % per M parameters", lambda v: f"{v:.2f}"),
}


def quote_cell(family: str) -> str:
    spanish, english = QUOTES[family]
    return f"«{spanish}» ({english})"


def numbers_cell(numbers: Sequence[tuple]) -> str:
    """'parameters: alexnet 61M, vgg16 138M; ...': one group per quantity, models in the claim's order."""
    groups: dict = {}
    for model, quantity, value in numbers:
        # no-break spaces: a model's name and its value ("vgg16 61 MB") never part at a line end
        groups.setdefault(quantity, []).append(f"{model}\u00a0{QUANTITIES[quantity][1](value)}".replace(" ", "\u00a0"))
    return "; ".join(f"{QUANTITIES[q][0]}: {', '.join(items)}" for q, items in groups.items())


def exact(numbers: Sequence[tuple]) -> str:
    """Every number at full precision, one 'model quantity = value' per line (repr: nothing rounded)."""
    return "\n".join(f"{model} {quantity} = {value!r}" for model, quantity, value in numbers)


def verdict_table(verdicts: Sequence) -> Table:
    """A Table of ``verdicts`` (cnnprofile.lecture.verdicts.Verdict), one row per claim, in the lecture's order.

    A family's name and the lecture's words head its first claim only, so each verdict reads as one block. Each
    record carries the verdict's raw fields and, as "note", the exact numbers (the report's hover text).
    """
    rows = tuple(((v.family, quote_cell(v.family)) if i == 0 or verdicts[i - 1].family != v.family else ("", ""))
                 + (v.claim, numbers_cell(v.numbers), HOLDS if v.holds else FAILS) for i, v in enumerate(verdicts))
    records = tuple({**r, "note": exact(v.numbers)} for r, v in zip(as_records(verdicts), verdicts))
    return Table(headers=HEADERS, rows=rows, title="The lecture's verdicts, checked against our numbers",
                 records=records)
