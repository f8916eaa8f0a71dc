"""Text and JSON for the receptive-field and roofline records (``table --rf``, ``--intensity``,
``--device-peak``), until they become columns of the one table layer. Reads records; computes nothing."""
from __future__ import annotations

import json
from dataclasses import asdict

from .formatting import human, human_bytes


def _axes(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return "x".join(_axes(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _columns(headers: list, rows: list) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [headers, ["-" * w for w in widths], *rows]]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render_rf(profile, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"model": profile.model, "input_shape": list(profile.input_shape),
                           "convention": profile.convention, "layers": [asdict(r) for r in profile.layers]},
                          indent=2) + "\n"
    rows = []
    for r in profile.layers:
        rf = "whole" if r.whole_input and r.receptive_field is None else _axes(r.receptive_field)
        if r.unknown_ops:
            rf = "unknown (" + ", ".join(r.unknown_ops) + ")"
        note = ("whole input via a gate" if r.whole_input and r.receptive_field is not None else "") + \
            ("" if r.aligned else " branches not aligned")
        rows.append([r.name, rf, _axes(r.effective_stride), _axes(r.effective_padding), note.strip()])
    last = profile.last_feature_map()
    tail = f"last feature map: {last.name}, receptive field {_axes(last.receptive_field)}\n" if last else ""
    return (f"{profile.model} {'x'.join(map(str, profile.input_shape))}: receptive fields\n"
            + _columns(["Layer", "RF", "Stride", "Padding", "Note"], rows) + tail
            + f"Convention: {profile.convention}\n")


def render_roofline(traffic, roof, fmt: str) -> str:
    bounds = roof.layers if roof is not None else [None] * len(traffic.layers)
    if fmt == "json":
        layers = [{**asdict(t), **({"bound": b.bound, "least_time_s": b.least_time_s} if b else {})}
                  for t, b in zip(traffic.layers, bounds)]
        doc = {"model": traffic.model, "input_shape": list(traffic.input_shape), "dtype": traffic.dtype,
               "convention": traffic.convention, "layers": layers}
        if roof is not None:
            doc["device"] = {k: v for k, v in asdict(roof).items() if k != "layers"}
        return json.dumps(doc, indent=2) + "\n"
    rows = []
    for t, b in zip(traffic.layers, bounds):
        ai = "-" if t.arithmetic_intensity is None else f"{t.arithmetic_intensity:.3g}"
        row = [t.name, human(t.flops), human_bytes(t.bytes_read), human_bytes(t.bytes_written), ai]
        if b is not None:
            row += [b.bound, f"{b.least_time_s * 1e6:.3g}"]
        rows.append(row)
    headers = ["Layer", "FLOPs", "Read", "Written", "FLOPs/B"] + (["Bound", "Least us"] if roof else [])
    text = (f"{traffic.model} {'x'.join(map(str, traffic.input_shape))} {traffic.dtype}: arithmetic intensity\n"
            + _columns(headers, rows))
    if roof is not None:
        text += (f"{roof.device} ({roof.precision} {roof.peak_tflops:g} TFLOP/s, {roof.bandwidth_gbs:g} GB/s, "
                 f"ridge {roof.ridge:.3g} FLOPs/B): latency >= {roof.lower_bound_s * 1e3:.4g} ms at this batch "
                 f"(sum of the layers' least times)\nSources: {'; '.join(roof.sources)}\n")
    return text + f"Convention: {traffic.convention}\n"


def markdown_last_maps(pairs: list) -> str:
    """The README's table: the receptive field of each zoo model's last feature map."""
    lines = ["| Model | Last feature map | Receptive field | Stride | Padding | Note |", "|---|---|---:|---:|---:|---|"]
    for name, r in pairs:
        note = "also sees the whole input (SE gate)" if r.whole_input else ""
        lines.append(f"| {name} | `{r.name}` | {_axes(r.receptive_field)} | {_axes(r.effective_stride)} | "
                     f"{_axes(r.effective_padding)} | {note} |")
    return "\n".join(lines) + "\n"
