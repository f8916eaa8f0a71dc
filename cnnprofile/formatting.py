"""Turn records into text, markdown, CSV or JSON. Nothing here computes a figure; it only presents one."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Sequence

from .records import LayerRecord, Profile, layer_columns
from .tabular import Table, render_grid, right_aligned

FORMATS = ("text", "markdown", "csv", "json")


def human(n: float, unit: str = "") -> str:
    """Three significant digits with decimal K/M/G/T prefixes: 15237608 -> '15.2M'."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= factor:
            value = n / factor
            text = f"{value:.3g}" if value < 1000 else f"{value:.0f}"
            return f"{text}{prefix}{unit}"
    return f"{n:g}{unit}" if isinstance(n, float) else f"{n}{unit}"


def human_bytes(n: float) -> str:
    return human(n, "B").replace("KB", " kB").replace("MB", " MB").replace("GB", " GB").replace("TB", " TB")


def exact(n: int) -> str:
    return f"{n:,}"


def shape_hwc(shape: Sequence[int]) -> str:
    """Per-sample output size the lecture's way: NCHW -> HxWxC, (N, F) -> F."""
    dims = list(shape[1:])
    if len(dims) >= 2:
        dims = dims[1:] + dims[:1]
    return "x".join(map(str, dims)) or "-"


def _size(kernel: tuple) -> str:
    return str(kernel[0]) if len(set(kernel)) == 1 else "x".join(map(str, kernel))


def layer_label(row: LayerRecord) -> str:
    """The lecture's name of a row: "CONV3-64", "DECONV2-16", "POOL2", "AVGPOOL3", "AVGPOOL-ADAPTIVE", "FC-4096",
    "INPUT"; any other row goes by its type."""
    if row.kind == "input":
        return "INPUT"
    if row.kind == "conv" and row.out_features:
        prefix = "DECONV" if row.variant == "transposed" else "CONV"
        return f"{prefix}{_size(row.kernel_size)}-{row.out_features}"
    if row.kind == "pool" and row.variant:
        if row.variant.startswith("adaptive"):
            return f"{row.variant.split('-')[1].upper()}POOL-ADAPTIVE"
        return f"{'POOL' if row.variant == 'max' else 'AVGPOOL'}{_size(row.kernel_size)}"
    if row.kind == "fc" and row.out_features:
        return f"FC-{row.out_features}"
    return row.type


def layer_cells(rows, exact_numbers: bool = False) -> list:
    """The layer table's cells, one list per row, in the order of ``HEADERS``."""
    num = exact if exact_numbers else human
    return [[layer_label(r), r.name, r.type, shape_hwc(r.output_shape),
             num(r.activation_elems) if r.activation_elems else "-",
             num(r.params) if r.params else "-", num(r.macs) if r.macs else "-",
             num(r.flops) if r.flops else "-"] + (["uncounted: " + ", ".join(r.uncounted_ops)]
                                                 if r.uncounted_ops else [""]) for r in rows]


HEADERS = ["Layer", "Module", "Type", "Output (HxWxC)", "Memory (elems)", "Params", "MACs", "FLOPs", ""]


def _summary_lines(profile: Profile, exact_numbers: bool) -> list:
    t = profile.totals
    num = exact if exact_numbers else human
    size = profile.element_size
    lines = [
        f"Activations: {num(t.activation_elems)} x {size} bytes ({profile.dtype}) = {human_bytes(t.activation_bytes)}"
        f"  [batch {profile.input_shape[0]}]",
        f"Parameters:  {num(t.params)} x {size} bytes = {human_bytes(t.param_bytes)}"
        + ("  [biases included]" if t.bias_params else ""),
        f"MACs: {num(t.macs)}   FLOPs: {num(t.flops)}",
    ]
    if profile.unused_params:
        lines.append(f"Not in this profile: {num(profile.unused_params)} parameters that no op of the forward "
                     "pass reads (e.g. auxiliary classifiers in eval mode)")
    if profile.uncounted_ops:
        lines.append("Uncounted ops (no formula; their MACs/FLOPs are unknown, not zero): "
                     + ", ".join(f"{u.op} x{u.count}" for u in profile.uncounted_ops))
    return lines


def to_text(profile: Profile, rows, *, view: str, exact_numbers: bool = False, markdown: bool = False) -> str:
    header = (f"{profile.model}: input {'x'.join(map(str, profile.input_shape))} (NxCxHxW), {profile.dtype}, "
              f"engine {profile.engine}, view {view}")
    grid = Table(headers=tuple(HEADERS), rows=tuple(tuple(r) for r in layer_cells(rows, exact_numbers)),
                 align=right_aligned(len(HEADERS), 3, len(HEADERS) - 1))
    table = render_grid(grid, markdown)
    summary = _summary_lines(profile, exact_numbers)
    conv = [f"- {v}" for v in asdict(profile.conventions).values()]
    if markdown:
        return "\n".join([f"### {header}", "", table, ""] + [f"- {s}" for s in summary] +
                         ["", "Conventions:", ""] + conv) + "\n"
    return "\n".join([header, "", table, ""] + summary + ["", "Conventions:"] + conv) + "\n"


def _row_dict(row) -> dict:
    d = {c: getattr(row, c) for c in layer_columns()}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def to_json(profile: Profile, rows, *, view: str) -> str:
    return json.dumps({
        "model": profile.model, "input_shape": list(profile.input_shape), "dtype": profile.dtype,
        "engine": profile.engine, "view": view, "conventions": asdict(profile.conventions),
        "layers": [_row_dict(r) for r in rows], "totals": asdict(profile.totals),
        "uncounted_ops": [asdict(u) for u in profile.uncounted_ops], "unused_params": profile.unused_params,
    }, indent=2) + "\n"


def to_csv(rows) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=layer_columns(), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        d = {c: getattr(r, c) for c in layer_columns()}
        d["uncounted_ops"] = " ".join(r.uncounted_ops)
        writer.writerow({k: "x".join(map(str, v)) if isinstance(v, tuple) else v for k, v in d.items()})
    return buf.getvalue()


def render(profile: Profile, rows, fmt: str, *, view: str, exact_numbers: bool = False) -> str:
    if fmt == "json":
        return to_json(profile, rows, view=view)
    if fmt == "csv":
        return to_csv(rows)
    return to_text(profile, rows, view=view, exact_numbers=exact_numbers, markdown=fmt == "markdown")
