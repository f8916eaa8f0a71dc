"""Text and JSON for a ``MemoryReport``: reads records, computes nothing new."""
from __future__ import annotations

import json
from typing import Optional

from ..analyses.memory.report import MemoryReport

FORMATS = ("text", "markdown", "csv", "json")


def _bytes(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def _count(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def _line(label: str, value: str, note: str = "") -> str:
    return f"  {label:<34}{value:>12}" + (f"   {note}" if note else "")


def render_json(report: MemoryReport) -> str:
    return json.dumps(report.to_json_dict(), indent=2) + "\n"


def render_text(r: MemoryReport, full: Optional[MemoryReport] = None, top: int = 12, layers: bool = False) -> str:
    what = f"training step ({r.optimizer})" if r.train else "inference (forward pass, no_grad)"
    precision = f"{r.dtype}" + (f", autocast {r.amp}" if r.amp else "")
    out = [f"{r.model} | {what} | batch {r.batch} | input {'x'.join(map(str, r.input_shape))} | {precision} | "
           f"target {r.device}", ""]
    if r.max_batch is not None:
        out += [f"Largest batch that fits in {_bytes(r.fit_bytes)}: {r.max_batch} (peak {_bytes(r.peak_bytes)}, "
                f"headroom {_bytes(r.fit_bytes - r.peak_bytes)}; batch {r.max_batch + 1} needs "
                f"{_bytes(r.next_peak_bytes)})", ""]
    out.append(_line("peak", _bytes(r.peak_bytes), f"during {r.peak_phase}, reached in {r.peak_layer}"))
    out.append(_line("weights", _bytes(r.weights_bytes)))
    out.append(_line("buffers", _bytes(r.buffers_bytes)))
    out.append(_line("input" + (" and targets" if r.train else ""), _bytes(r.input_bytes)))
    if r.train:
        out.append(_line("optimizer state", _bytes(r.optimizer_state_bytes)))
        out.append(_line("gradients", _bytes(r.gradients_bytes)))
        out.append(_line("activations saved for backward", _bytes(r.saved_activations_bytes)))
    out.append(_line("activations alive at the peak", _bytes(r.activations_at_peak_bytes)))
    if r.workspace_bytes:
        out.append(_line("library, kernel workspace", _bytes(r.workspace_bytes)))
    out.append("")
    out.append(f"Parameters: {_count(r.trainable_params + r.frozen_params)} "
               + (f"({_count(r.trainable_params)} trainable, {_count(r.frozen_params)} frozen)" if r.train else ""))
    ratio = r.backward_forward_ratio
    out.append(f"MACs: forward {_count(r.forward_macs)}" + (f", backward {_count(r.backward_macs)} (backward/forward "
                                                           f"{ratio:.2f})" if r.train and ratio is not None else ""))
    out.append(f"FLOPs: forward {_count(r.forward_flops)}" + (f", backward {_count(r.backward_flops)}"
                                                             if r.train else ""))
    if full is not None:
        out.append(f"Fine-tuning vs full training: peak {_bytes(r.peak_bytes)} vs {_bytes(full.peak_bytes)}, "
                   f"backward MACs {_count(r.backward_macs)} vs {_count(full.backward_macs)}, optimizer state "
                   f"{_bytes(r.optimizer_state_bytes)} vs {_bytes(full.optimizer_state_bytes)}")
    out += ["", f"Alive at the peak (largest {min(top, len(r.at_peak))} of {len(r.at_peak)} groups, by kind and the "
                "layer that created them):"]
    for share in r.at_peak[:top]:
        out.append(f"  {share.category:<17}{share.layer:<40}{_bytes(share.bytes):>12}")
    rest = sum(s.bytes for s in r.at_peak[top:])
    if rest:
        out.append(f"  {'(the rest)':<57}{_bytes(rest):>12}")
    if layers:
        out += ["", f"  {'layer':<40}{'fwd MACs':>10}{'bwd MACs':>10}{'fwd FLOPs':>11}{'bwd FLOPs':>11}"
                    f"{'saved':>11}"]
        for row in r.layers:
            name = row.name + (f" (call {row.call + 1})" if row.call else "")
            out.append(f"  {name:<40}{_count(row.forward_macs):>10}{_count(row.backward_macs):>10}"
                       f"{_count(row.forward_flops):>11}{_count(row.backward_flops):>11}{_bytes(row.saved_bytes):>11}")
    if r.uncounted_ops:
        out += ["", "Uncounted ops (no formula; not included in MACs/FLOPs): "
                + ", ".join(f"{op} ({phase})" for phase, op, _ in r.uncounted_ops)]
    out += ["", "Target:"] + [f"  - {note}" for note in r.target_notes]
    out += ["", "Definitions:"] + [f"  - {text}" for text in vars(r.definitions).values()]
    return "\n".join(out) + "\n"


def _figures(report: MemoryReport) -> list:
    """(key, exact value) of every figure the JSON has, in its order."""
    return list(report.to_json_dict().items())


def render_csv(report: MemoryReport) -> str:
    """One row per figure, exact integers, under the JSON's keys: ``figure,value``."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["figure", "value"])
    writer.writerows(_figures(report))
    return buf.getvalue()


def render_markdown(report: MemoryReport) -> str:
    """The figures as a Markdown table: the JSON's keys, exact values and the rounded ones the text shows."""
    what = f"training step ({report.optimizer})" if report.train else "inference"
    out = [f"**{report.model}**, {what}, batch {report.batch}, input {'x'.join(map(str, report.input_shape))}, "
           f"{report.dtype}" + (f", autocast {report.amp}" if report.amp else "") + f", target {report.device}", "",
           "| Figure | Value | Rounded |", "|---|---:|---:|"]
    for key, value in _figures(report):
        rounded = _bytes(value) if key.endswith("_bytes") else _count(value)
        out.append(f"| {key} | {value} | {rounded} |")
    return "\n".join(out) + "\n"
