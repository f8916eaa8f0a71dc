"""Turn records into text, markdown, CSV or JSON. Nothing here computes a figure; it only presents one."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Sequence

from ..records import LayerRecord, Profile, layer_columns, shown
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


def shape_hwc(shape: Sequence[int], channels_last: bool = False) -> str:
    """Per-sample output size the lecture's way: NCHW (or NHWC) -> HxWxC, (N, F) -> F."""
    dims = list(shape[1:])
    if len(dims) >= 2 and not channels_last:
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


def axes(value) -> str:
    """A per-axis figure: "212", "3x5" (one per spatial axis), "0.5"; "-" where there is none."""
    if value is None:
        return "-"
    if isinstance(value, (tuple, list)):
        return "x".join(axes(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _rf_cells(r: LayerRecord) -> list:
    if r.rf_unknown_ops:
        return ["unknown", "-", "-"]
    if r.receptive_field is None and r.whole_input:
        return ["whole", "-", "-"]
    return [axes(r.receptive_field), axes(r.effective_stride), axes(r.effective_padding)]


def _intensity_cells(r: LayerRecord, num) -> list:
    ai = r.arithmetic_intensity
    return [human_bytes(r.bytes_read) if r.bytes_read else "-",
            human_bytes(r.bytes_written) if r.bytes_written else "-", "-" if ai is None else f"{ai:.3g}"]


def _roofline_cells(r: LayerRecord, num) -> list:
    return [r.bound if r.bound and r.bound != "none" else "-",
            f"{r.least_time_s * 1e6:.3g}" if r.least_time_s else "-"]


def _predicted_cells(r: LayerRecord, num) -> list:
    return [f"{r.predicted_s * 1e6:.3g}" if r.predicted_s else "-"]


def _train_cells(r: LayerRecord, num) -> list:
    saved = r.saved_bytes
    return [num(r.backward_macs) if r.backward_macs else "-", num(r.backward_flops) if r.backward_flops else "-",
            "-" if not saved else (exact(saved) if num is exact else human_bytes(saved))]


# The optional column groups as the text table shows them: headers and cells (``records.extra`` fields).
GROUP_COLUMNS = {
    "rf": (["RF", "Stride", "Padding"], lambda r, num: _rf_cells(r)),
    "intensity": (["Read", "Written", "FLOPs/B"], _intensity_cells),
    "roofline": (["Bound", "Least (us)"], _roofline_cells),
    "predicted": (["Predicted (us)"], _predicted_cells),
    "train": (["Bwd MACs", "Bwd FLOPs", "Saved"], _train_cells),
}


def _notes(r: LayerRecord, groups: tuple) -> str:
    notes = ["uncounted: " + ", ".join(r.uncounted_ops)] if r.uncounted_ops else []
    if "rf" in groups:
        if r.rf_unknown_ops:
            notes.append("no receptive-field rule: " + ", ".join(r.rf_unknown_ops))
        if r.whole_input and r.receptive_field is not None:
            notes.append("also sees the whole input (a gate)")
        if r.rf_aligned is False:
            notes.append("branches not aligned")
    return "; ".join(notes)


def layer_cells(rows, exact_numbers: bool = False, groups: tuple = (), channels_last: bool = False) -> list:
    """The layer table's cells, one list per row, in the order of ``headers(groups)``."""
    num = exact if exact_numbers else human
    return [[layer_label(r), r.name, r.type, shape_hwc(r.output_shape, channels_last),
             num(r.activation_elems) if r.activation_elems else "-",
             num(r.params) if r.params else "-", num(r.macs) if r.macs else "-",
             num(r.flops) if r.flops else "-"]
            + [c for g in groups if g in GROUP_COLUMNS for c in GROUP_COLUMNS[g][1](r, num)]
            + [_notes(r, groups)] for r in rows]


HEADERS = ["Layer", "Module", "Type", "Output (HxWxC)", "Memory (elems)", "Params", "MACs", "FLOPs", ""]


# The output column names its axes by the rank of the feature maps (a row's shape, batch included): a vector
# (N, F) reads F under any of them, so images keep HxWxC.
_AXES_BY_RANK = {3: "LxC", 4: "HxWxC", 5: "TxHxWxC"}


def output_header(rows=()) -> str:
    """"Output (HxWxC)" for images, "Output (LxC)" for 1-D signals, "Output (TxHxWxC)" for video; "Output (...xC)" where
    the rows' feature maps have several ranks."""
    ranks = {len(r.output_shape) for r in rows if len(r.output_shape) >= 3}
    if len(ranks) > 1:
        return "Output (...xC)"
    return f"Output ({_AXES_BY_RANK.get(ranks.pop() if ranks else 4, '...xC')})"


def headers(groups: tuple = (), rows=()) -> list:
    """The layer table's headers with the optional columns of ``groups``; ``rows`` name the output's axes."""
    heads = [output_header(rows) if h == HEADERS[3] else h for h in HEADERS]
    return heads[:-1] + [h for g in groups if g in GROUP_COLUMNS for h in GROUP_COLUMNS[g][0]] + heads[-1:]


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
    if "intensity" in profile.groups:
        ai = t.arithmetic_intensity
        lines.append(f"Memory traffic: read {human_bytes(t.bytes_read)}, written {human_bytes(t.bytes_written)}, "
                     f"{'-' if ai is None else f'{ai:.3g}'} FLOPs per byte")
    if profile.device is not None:
        d = profile.device
        lines.append(f"Roofline on {d.name} ({d.precision} {d.peak_tflops:g} TFLOP/s, {d.bandwidth_gbs:g} GB/s, "
                     f"ridge {d.ridge:.3g} FLOPs/B): latency >= {t.least_time_s * 1e3:.4g} ms at batch "
                     f"{profile.input_shape[0]} (sum of the layers' least times)")
        lines.append(f"Peak and bandwidth: {'; '.join(d.sources)}")
    if profile.predicted is not None:
        p = profile.predicted
        err = "" if p.calibration_error is None else f", its fit's median |error| {100 * p.calibration_error:.1f}%"
        lines.append(f"Predicted on {p.device_name} ({p.step}): {t.predicted_s * 1e3:.4g} ms at batch "
                     f"{profile.input_shape[0]} ({human(profile.input_shape[0] / t.predicted_s)} images/s; "
                     f"calibration: {p.calibration}{err})")
    if profile.training is not None:
        lines += _training_lines(profile, num)
    if "rf" in profile.groups:
        from ..analyses.views import last_feature_map

        last = last_feature_map(profile.layers)
        if last is not None:
            lines.append(f"Last feature map: {last.name}, receptive field {axes(last.receptive_field)}, "
                         f"stride {axes(last.effective_stride)}, padding {axes(last.effective_padding)}")
    if profile.uncounted_ops:
        lines.append("Uncounted ops (no formula; their MACs/FLOPs are unknown, not zero): "
                     + ", ".join(f"{u.op} x{u.count}" for u in profile.uncounted_ops))
    return lines


def _training_lines(profile: Profile, num) -> list:
    t, step = profile.totals, profile.training

    def part(macs, flops, saved) -> str:
        return f"backward MACs {num(macs)}, FLOPs {num(flops)}; saved for backward {human_bytes(saved)}"

    lines = [f"Rows' backward: {part(t.backward_macs, t.backward_flops, t.saved_bytes)}",
             f"Loss (not a row): {part(step.loss.backward_macs, step.loss.backward_flops, step.loss.saved_bytes)}"]
    parts = "rows + loss"
    if step.unmatched_layers:
        u = step.unmatched
        names = step.unmatched_layers
        named = ", ".join(names[:3]) + (f", ... ({len(names)} in all)" if len(names) > 3 else "")
        lines.append(f"Calls the inference pass does not make ({named}): forward MACs "
                     f"{num(u.forward_macs)}, FLOPs {num(u.forward_flops)}; "
                     f"{part(u.backward_macs, u.backward_flops, u.saved_bytes)}")
        parts += " + those calls"
    s, ratio = step.step, step.backward_forward_ratio
    lines.append(f"Training step ({step.optimizer}; {num(step.trainable_params)} trainable, "
                 f"{num(step.frozen_params)} frozen parameters): forward MACs {num(s.forward_macs)}, FLOPs "
                 f"{num(s.forward_flops)} (training mode); backward MACs {num(s.backward_macs)}, FLOPs "
                 f"{num(s.backward_flops)}, saved for backward {human_bytes(s.saved_bytes)} ({parts}); "
                 f"backward/forward MACs {'-' if ratio is None else f'{ratio:.2f}'}")
    return lines


def to_text(profile: Profile, rows, *, view: str, exact_numbers: bool = False, markdown: bool = False) -> str:
    header = (f"{profile.model}: {_inputs_text(profile)}, {profile.dtype}, "
              f"engine {profile.engine}, view {view}") + (f"\nEngine {profile.engine}: {profile.engine_note}"
                                                           if profile.engine_note else "")
    heads = headers(profile.groups, rows)
    grid = Table(headers=tuple(heads), rows=tuple(tuple(r) for r in layer_cells(rows, exact_numbers, profile.groups,
                                                                    profile.channels_last)),
                 align=right_aligned(len(heads), 3, len(heads) - 1))
    table = render_grid(grid, markdown)
    summary = _summary_lines(profile, exact_numbers)
    conv = [f"- {v}" for v in profile.conventions.stated().values()]
    if markdown:
        return "\n".join([f"### {header}", "", table, ""] + [f"- {s}" for s in summary] +
                         ["", "Conventions:", ""] + conv) + "\n"
    return "\n".join([header, "", table, ""] + summary + ["", "Conventions:"] + conv) + "\n"


def _row_dict(row, groups: tuple = ()) -> dict:
    d = {c: getattr(row, c) for c in layer_columns(groups)}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _inputs_text(profile: Profile) -> str:
    shape = "x".join(map(str, profile.input_shape))
    if len(profile.inputs) <= 1 and len(profile.input_shape) == 4:
        return f"input {shape} ({'NxHxWxC' if profile.channels_last else 'NxCxHxW'})"
    if len(profile.inputs) <= 1:
        return f"input {shape}"
    return "inputs " + ", ".join(f"{n}={'x'.join(map(str, s))}:{d}" for n, s, d in profile.inputs)


def to_json(profile: Profile, rows, *, view: str) -> str:
    doc = {
        "model": profile.model, "input_shape": list(profile.input_shape), "dtype": profile.dtype,
        "engine": profile.engine, "view": view, "conventions": profile.conventions.stated(),
        "layers": [_row_dict(r, profile.groups) for r in rows], "totals": shown(profile.totals, profile.groups),
        "uncounted_ops": [asdict(u) for u in profile.uncounted_ops], "unused_params": profile.unused_params,
        "inputs": [{"name": n, "shape": list(s), "dtype": d} for n, s, d in profile.inputs],
        "output_shapes": {path: list(s) for path, s in profile.output_shapes}, "engine_note": profile.engine_note,
    }
    if profile.device is not None:
        doc["device"] = asdict(profile.device)
    if profile.training is not None:
        doc["training"] = asdict(profile.training)
    return json.dumps(doc, indent=2) + "\n"


def _csv_cell(value):
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return value


def to_csv(rows, groups: tuple = ()) -> str:
    buf = io.StringIO()
    columns = layer_columns(groups)
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        d = {c: getattr(r, c) for c in columns}
        d["uncounted_ops"] = " ".join(r.uncounted_ops)
        if "rf_unknown_ops" in d:
            d["rf_unknown_ops"] = " ".join(r.rf_unknown_ops or ())
        writer.writerow({k: _csv_cell(v) for k, v in d.items()})
    return buf.getvalue()


def render(profile: Profile, rows, fmt: str, *, view: str, exact_numbers: bool = False) -> str:
    if fmt == "json":
        return to_json(profile, rows, view=view)
    if fmt == "csv":
        return to_csv(rows, profile.groups)
    return to_text(profile, rows, view=view, exact_numbers=exact_numbers, markdown=fmt == "markdown")
