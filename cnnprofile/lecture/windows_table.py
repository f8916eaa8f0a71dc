"""Presentation of ``windows.SlidingWindows`` for ``cnnprofile windows``: nothing here computes a figure."""
from __future__ import annotations

from ..present.formatting import human
from ..present.tabular import Table, render_table, right_aligned

HEADERS = ("Window (px)", "Stride (px)", "Windows", "Sliding MACs", "FCN input", "FCN grid", "FCN stride (px)",
           "Cell sees (px)", "FCN MACs", "MACs / cell", "Sliding / FCN")


def _px(values) -> str:
    return "x".join(f"{float(v):.4g}" for v in values)


def _grid(grid) -> str:
    return f"{grid[0]}x{grid[1]} = {grid[0] * grid[1]}"


def _record(s) -> dict:
    return {"window": [float(v) for v in s.window], "stride": [float(v) for v in s.stride],
            "windows": list(s.windows), "sliding_macs": s.sliding_macs, "sliding_flops": s.sliding_flops,
            "fcn_input": list(s.fcn_input), "fcn_grid": list(s.fcn_grid),
            "fcn_stride": [float(v) for v in s.fcn_stride],
            "cell_field": [float(v) for v in s.cell_field], "fcn_macs": s.fcn_macs, "fcn_flops": s.fcn_flops,
            "fcn_macs_per_cell": s.fcn_macs / s.cell_count, "ratio": s.ratio, "same_grid": s.same_grid}


def windows_table(result) -> Table:
    rows = tuple((_px(s.window), _px(s.stride), _grid(s.windows), human(s.sliding_macs), _px(s.fcn_input),
                  _grid(s.fcn_grid), _px(s.fcn_stride), _px(s.cell_field), human(s.fcn_macs),
                  human(s.fcn_macs / s.cell_count), f"{s.ratio:.1f}x")
                 for s in result.sizes)
    c, h, w = result.native
    blocks = (f" laid out as {result.blocks[0]}x{result.blocks[1]} blocks of "
              f"{_px((result.image[0] / result.blocks[0], result.image[1] / result.blocks[1]))} px"
              if result.blocks else "")
    notes = [f"one window = {result.model} at its native {c}x{h}x{w}: {human(result.window_macs)} MACs, "
             f"{human(result.window_flops)} FLOPs",
             f"an FCN output cell sees {_px(result.fcn_field)} px of the image the FCN runs on, cells "
             f"{_px(result.fcn_stride)} px apart, effective padding {_px(result.fcn_padding)}",
             f"all window sizes: sliding windows {human(result.sliding_macs)} MACs, FCN passes "
             f"{human(result.fcn_macs)} MACs ({result.sliding_macs / result.fcn_macs:.1f}x)"]
    notes += [f"window {_px(s.window)}: the FCN grid ({s.fcn_grid[0]}x{s.fcn_grid[1]}) is not the windows' "
              f"({s.windows[0]}x{s.windows[1]}): its cells are {_px(s.fcn_stride)} px apart, so compare MACs per "
              f"prediction: {human(result.window_macs)} per window, {human(s.fcn_macs / s.cell_count)} per cell"
              for s in result.sizes if not s.same_grid]
    notes += list(result.conventions)
    meta = {"model": result.model, "native": list(result.native), "image": list(result.image),
            "blocks": list(result.blocks) if result.blocks else None, "window_macs": result.window_macs,
            "window_flops": result.window_flops, "fcn_field": [float(v) for v in result.fcn_field],
            "fcn_stride": [float(v) for v in result.fcn_stride],
            "fcn_padding": [float(v) for v in result.fcn_padding]}
    return Table(headers=HEADERS, rows=rows, align=right_aligned(len(HEADERS), 2),
                 title=f"{result.model}: sliding windows on a {result.image[0]}x{result.image[1]} image{blocks} "
                       "against one fully convolutional pass per window size",
                 notes=tuple(notes), records=tuple(_record(s) for s in result.sizes), meta=meta, records_key="sizes")


def render_windows(result, fmt: str) -> str:
    return render_table(windows_table(result), fmt)
